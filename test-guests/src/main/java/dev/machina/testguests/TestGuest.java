package dev.machina.testguests;

import dev.machina.hypervisor.Guest;
import dev.machina.hypervisor.Vcpu;
import dev.machina.hypervisor.x86.DescriptorTable;
import dev.machina.hypervisor.x86.Register;
import dev.machina.hypervisor.x86.X86State;
import dev.machina.loader.BootGdt;
import dev.machina.loader.BootPageTables;
import dev.machina.loader.ElfImage;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;

/**
 * The freestanding test guests, assembled from {@code src/main/asm/NAME.S} into class-path
 * resources {@code /guests/NAME.elf}. Each is linked at {@link #LOAD_ADDRESS}, entered in 64-bit
 * mode with RDI = vCPU id, and talks to the {@link TestDevice}.
 *
 * <p>Boot layout in guest RAM: the boot GDT at {@link #GDT_ADDRESS}, identity-mapping page tables
 * (4 GiB, so the MMIO hole is reachable) at {@link #PAGE_TABLES_ADDRESS}, one stack per vCPU below
 * {@link #STACKS_TOP}, the image from {@link #LOAD_ADDRESS}.
 */
public enum TestGuest {
    /** Port output of 8, 16 and 32 bits, and input echoed back transformed. */
    PORT_IO("port-io"),
    /** MMIO writes and reads of 1, 2, 4 and 8 bytes to a MEM trap at {@link TestDevice#MMIO}. */
    MMIO("mmio"),
    /** A doorbell write to {@link TestDevice#BELLS}, then polling the ack port while counting. */
    BELL("bell"),
    /** Its own GDT and IDT, then {@code sti; hlt} until RSI interrupts (at least one) were taken. */
    INTERRUPTS("interrupts"),
    /** The local APIC timer one-shot then periodic, then the PIT through the IOAPIC, each waking HLT. */
    TIMERS("timers"),
    /**
     * Its own GDT and IDT, then a loop with interrupts enabled that counts its iterations at
     * {@link #PROGRESS} and reports the count each time it sees an interrupt taken; exits after two.
     */
    BUSY("busy"),
    /** Three page faults (not present on read and on write, write-protected with CR0.WP), each reported by its handler. */
    PAGE_FAULTS("page-faults"),
    /** Every vCPU reports its id and exits. */
    SMP("smp"),
    /** vCPU 0 starts vCPU 1 with INIT and SIPI into a real-mode trampoline that reports and exits; see {@link #bootProcessorOnly}. */
    STARTUP("startup"),
    /** Computes a function of the registers it was entered with (see the conformance suite). */
    STATE("state"),
    /** Reports ready, then {@code jmp .} with interrupts off. */
    SPIN("spin"),
    /** Reports ready, then {@code cli; hlt}. */
    HALT("halt"),
    /** Loads an empty IDT and executes UD2: a triple fault. */
    TRIPLE_FAULT("triple-fault");

    /** The RAM a test guest needs. */
    public static final long MEMORY_BYTES = 16L << 20;
    public static final long GDT_ADDRESS = 0x1000;
    public static final long PAGE_TABLES_ADDRESS = 0x2000;
    public static final long STACKS_TOP = 0x80000;
    public static final long STACK_BYTES = 0x4000;
    public static final long LOAD_ADDRESS = 0x100000;
    /** Where the busy guest keeps its iteration count (a 64-bit value). */
    public static final long PROGRESS = 0x90000;

    private final String fileName;

    TestGuest(String name) {
        this.fileName = name + ".elf";
    }

    /** The class-path resource holding the guest's ELF image. */
    public String resource() {
        return "/guests/" + fileName;
    }

    /** Reads the guest's image from the class path. */
    public ElfImage image() {
        try (InputStream in = TestGuest.class.getResourceAsStream(resource())) {
            if (in == null) {
                throw new IllegalStateException("test guest resource " + resource() + " is missing: was test-guests built with make, as and ld?");
            }
            Path file = Files.createTempFile("machina-" + name().toLowerCase() + "-", ".elf");
            try {
                Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
                return ElfImage.read(file);
            } finally {
                Files.delete(file);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot extract " + resource(), e);
        }
    }

    /**
     * Loads the guest into {@code guest}'s RAM with its boot page tables and GDT, and creates vCPUs
     * 0 to {@code vcpuCount - 1}, each given its 64-bit entry state (not started).
     */
    public List<Vcpu> boot(Guest guest, int vcpuCount) {
        return boot(guest, vcpuCount, vcpuCount);
    }

    /**
     * As {@link #boot}, but only vCPU 0 gets the entry state: the others keep their power-up
     * state and wait for INIT and a startup IPI, as a PC's application processors do.
     */
    public List<Vcpu> bootProcessorOnly(Guest guest, int vcpuCount) {
        return boot(guest, vcpuCount, 1);
    }

    private List<Vcpu> boot(Guest guest, int vcpuCount, int entered) {
        if (vcpuCount < 1 || STACK_BYTES * vcpuCount > STACKS_TOP - (PAGE_TABLES_ADDRESS + BootPageTables.size(MEMORY_BYTES))) {
            throw new IllegalArgumentException("no room for " + vcpuCount + " vCPU stacks");
        }
        ElfImage.LoadedImage loaded = image().load(guest.memory());
        long cr3 = BootPageTables.write(guest.memory(), PAGE_TABLES_ADDRESS, guest.memory().size());
        DescriptorTable gdt = BootGdt.write(guest.memory(), GDT_ADDRESS);
        List<Vcpu> vcpus = new ArrayList<>();
        for (int id = 0; id < vcpuCount; id++) {
            Vcpu vcpu = guest.createVcpu(id);
            if (id >= entered) {
                vcpus.add(vcpu);
                continue;
            }
            vcpu.writeState(X86State.longMode(loaded.entry(), STACKS_TOP - id * STACK_BYTES, cr3, BootGdt.CODE_SELECTOR, gdt)
                    .with(Register.RDI, id));
            vcpus.add(vcpu);
        }
        return List.copyOf(vcpus);
    }
}
