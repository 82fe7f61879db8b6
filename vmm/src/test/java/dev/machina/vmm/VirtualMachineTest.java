package dev.machina.vmm;

import dev.machina.hypervisor.Backends;
import dev.machina.vmm.boot.AssembledGuest;
import dev.machina.vmm.config.GuestConfig;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Whole machines on the KVM backend, with tiny guests that end in each way the VMM tells apart. */
@Timeout(60)
class VirtualMachineTest {
    @TempDir
    Path directory;

    private final ByteArrayOutputStream console = new ByteArrayOutputStream();
    private final List<String> messages = new ArrayList<>();

    @BeforeAll
    static void requireKvm() {
        Path kvm = Path.of("/dev/kvm");
        assumeTrue(Files.isReadable(kvm) && Files.isWritable(kvm), "/dev/kvm is absent or not readable and writable");
    }

    /** Boots {@code program}, types {@code typed} before it starts, and waits for it to end. */
    private GuestOutcome run(String program, byte... typed) throws Exception {
        Path kernel = AssembledGuest.build(directory, program);
        GuestConfig config = new GuestConfig(new GuestConfig.Kernel.Linux(kernel), Optional.empty(), List.of(), "", 1,
                16 << 20, Set.of(), "kvm");
        try (VirtualMachine machine = VirtualMachine.create(config, Backends.installed(), console, messages::add)) {
            for (byte value : typed) {
                machine.type(value);
            }
            return machine.run();
        }
    }

    @Test
    void writingS5ToPm1aControlPowersOff() throws Exception {
        GuestOutcome outcome = run("""
                mov $0x3F8, %dx
                mov $'A', %al
                out %al, %dx
                mov $0x604, %dx
                mov $0x3400, %ax
                out %ax, %dx
                1: hlt
                jmp 1b""");
        assertThat(outcome).isEqualTo(new GuestOutcome.PoweredOff());
        assertThat(outcome.exitStatus()).isZero();
        assertThat(console.toString()).isEqualTo("A");
        assertThat(messages.getFirst()).startsWith("backend: kvm");
    }

    @Test
    void theConsoleUartDeliversInput() throws Exception {
        GuestOutcome outcome = run("""
                mov $0x3FD, %dx
                1: in %dx, %al
                test $1, %al
                jz 1b
                mov $0x3F8, %dx
                in %dx, %al
                inc %al
                out %al, %dx
                mov $0x604, %dx
                mov $0x3400, %ax
                out %ax, %dx
                2: hlt
                jmp 2b""", (byte) 'H');
        assertThat(outcome).isEqualTo(new GuestOutcome.PoweredOff());
        assertThat(console.toString()).isEqualTo("I");
    }

    @Test
    void theI8042ResetLineReboots() throws Exception {
        GuestOutcome outcome = run("""
                mov $0xFE, %al
                out %al, $0x64
                1: hlt
                jmp 1b""");
        assertThat(outcome).isEqualTo(new GuestOutcome.Rebooted());
        assertThat(outcome.exitStatus()).isEqualTo(2);
    }

    @Test
    void aTripleFaultShutsDown() throws Exception {
        GuestOutcome outcome = run("""
                lidt empty_idt(%rip)
                ud2
                .data
                empty_idt: .word 0
                .quad 0""");
        assertThat(outcome).isInstanceOf(GuestOutcome.Shutdown.class);
        assertThat(outcome.exitStatus()).isEqualTo(3);
    }
}
