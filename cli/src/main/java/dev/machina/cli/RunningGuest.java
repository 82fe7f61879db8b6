package dev.machina.cli;

import dev.machina.cli.control.ControlledGuest;
import dev.machina.cli.control.GuestDescription;
import dev.machina.cli.instance.Instance;
import dev.machina.hypervisor.memory.GuestMemoryException;
import dev.machina.vmm.MachineStatistics;
import dev.machina.vmm.VirtualMachine;

import java.time.Duration;

/** The guest this VMM runs, as its control API sees it. */
final class RunningGuest implements ControlledGuest {
    static final String VMM_VERSION = "0.1.0";

    private final VirtualMachine machine;
    private final Instance instance;
    private final String packageName;
    private final long startedMillis;

    RunningGuest(VirtualMachine machine, Instance instance, String packageName, long startedMillis) {
        this.machine = machine;
        this.instance = instance;
        this.packageName = packageName;
        this.startedMillis = startedMillis;
    }

    @Override
    public GuestDescription describe() {
        return new GuestDescription(instance.id(), machine.paused() ? GuestDescription.PAUSED : GuestDescription.RUNNING,
                VMM_VERSION, "Machina", instance.name().orElse(null), packageName, machine.backend(), machine.vcpuCount(),
                machine.memoryBytes(), startedMillis, machine.bootTime().map(Duration::toMillis).orElse(null),
                ProcessHandle.current().pid());
    }

    @Override
    public void pause() throws InterruptedException {
        machine.pause();
    }

    @Override
    public void resume() {
        machine.resume();
    }

    /**
     * Presses the power button and ends the guest where it is once {@code graceMillis} have
     * passed, if it has not powered off by then. A paused guest cannot see the button: it is
     * ended at once.
     */
    @Override
    public void stop(long graceMillis) {
        if (graceMillis == 0 || machine.paused()) {
            machine.stop();
            return;
        }
        machine.pressPowerButton();
        Thread.ofVirtual().name("stop-deadline").start(() -> {
            try {
                Thread.sleep(Duration.ofMillis(graceMillis)); // the guest's time to power off, not a synchronisation
                machine.stop(); // does nothing if the guest has ended meanwhile
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
    }

    @Override
    public MachineStatistics statistics() {
        return machine.statistics();
    }

    @Override
    public byte[] readMemory(long address, int length) {
        try {
            return machine.readMemory(address, length);
        } catch (GuestMemoryException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
    }
}
