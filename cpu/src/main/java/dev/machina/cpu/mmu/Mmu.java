package dev.machina.cpu.mmu;

import dev.machina.cpu.fault.CpuException;
import dev.machina.cpu.fault.PageFault;
import dev.machina.cpu.state.CpuState;
import dev.machina.hypervisor.x86.ControlRegisters;

import java.util.Arrays;

/**
 * Linear-to-physical translation for 32-bit, PAE and 4-level paging (4 KiB, 2/4 MiB and 1 GiB
 * pages) with accessed/dirty bits, NX, U/S and R/W under CR0.WP, and a direct-mapped TLB.
 *
 * <p>The TLB keeps one tag array per kind of access, each tag being the virtual page number and
 * the user bit: an entry is entered in an array only if the walk that filled it allowed that
 * access (a write tag also needs the dirty bit already set), so a hit needs no permission check.
 * Anything else walks the tables, which raises the right #PF. A page that a data breakpoint
 * watches is never entered for the accesses that could hit it, so each of those comes through a
 * walk and is reported to the {@link dev.machina.cpu.state.DebugRegisters}.
 */
public final class Mmu {
    public static final int READ = 0;
    public static final int WRITE = 1;
    public static final int FETCH = 2;

    /** TLB entries; an address's entry is its page number modulo this. */
    public static final int ENTRIES = 512;
    /** Set in the tags of a page that is not RAM: they match {@link #tag} only with it masked off. */
    private static final long NOT_RAM = 1L << 63;
    private static final long PTE_PRESENT = 1;
    private static final long PTE_WRITABLE = 1L << 1;
    private static final long PTE_USER = 1L << 2;
    private static final long PTE_ACCESSED = 1L << 5;
    private static final long PTE_DIRTY = 1L << 6;
    private static final long PTE_LARGE = 1L << 7;
    private static final long PTE_GLOBAL = 1L << 8;
    private static final long PTE_NX = 1L << 63;
    private static final long ADDRESS_MASK = 0x000F_FFFF_FFFF_F000L;
    /** MAXPHYADDR: the physical address bits this core has, as CPUID 0x80000008 reports them. */
    public static final int PHYSICAL_ADDRESS_BITS = 40;
    /** The address bits of a paging entry above MAXPHYADDR (51:40), which must be clear. */
    private static final long ABOVE_PHYSICAL_ADDRESS = ADDRESS_MASK & -(1L << PHYSICAL_ADDRESS_BITS);

    private final CpuState state;
    private final PhysicalBus bus;
    private final long[][] tags = {new long[ENTRIES], new long[ENTRIES], new long[ENTRIES]};
    private final long[] physicalPage = new long[ENTRIES];
    private final long[] hostPage = new long[ENTRIES];
    private final boolean[] global = new boolean[ENTRIES];
    private int epoch;

    public Mmu(CpuState state, PhysicalBus bus) {
        this.state = state;
        this.bus = bus;
        flushAll();
    }

    public PhysicalBus bus() {
        return bus;
    }

    /**
     * The TLB's tags for {@code access} ({@link #READ}, {@link #WRITE}, {@link #FETCH}), indexed
     * like {@link #hostPages()}: an entry equal to {@link #tag} of an address and the user bit
     * allows that access to RAM without a walk (a page that is not RAM has {@link #NOT_RAM} set
     * in its tags, so only the walk's cache matches it). Translated code reads these arrays inline.
     */
    public long[] tags(int access) {
        return tags[access];
    }

    /** The host offset of each TLB entry's page in the RAM mapping, or -1 where it is not RAM. */
    public long[] hostPages() {
        return hostPage;
    }

    /**
     * Counts the flushes: a translation cached outside the TLB (the core's current code page)
     * stays valid while this is unchanged.
     */
    public int epoch() {
        return epoch;
    }

    /** Drops every translation (CR0/CR4 paging changes, CR4.PGE toggles). */
    public void flushAll() {
        epoch++;
        for (long[] kind : tags) {
            Arrays.fill(kind, -1);
        }
    }

    /** Drops the non-global translations (a CR3 write). */
    public void flushNonGlobal() {
        epoch++;
        boolean keepGlobal = (state.cr4 & ControlRegisters.CR4_PGE) != 0;
        for (int i = 0; i < ENTRIES; i++) {
            if (!keepGlobal || !global[i]) {
                for (long[] kind : tags) {
                    kind[i] = -1;
                }
            }
        }
    }

    /** INVLPG: drops the translation of the page holding {@code linear}, global or not. */
    public void flushPage(long linear) {
        epoch++;
        int index = (int) (linear >>> 12) & (ENTRIES - 1);
        for (long[] kind : tags) {
            kind[index] = -1;
        }
    }

    /** The tag of {@code linear}'s page for an access at CPL 3 ({@code user}) or below. */
    public static long tag(long linear, boolean user) {
        return (linear >>> 12) << 1 | (user ? 1 : 0);
    }

    /**
     * The host offset of the RAM at {@code linear} for {@code access} if the TLB holds it (no
     * walk, no fault), else -1 (a miss, a page that is not RAM, or one a data breakpoint watches).
     */
    public long hostFor(long linear, int access, boolean user) {
        int index = (int) (linear >>> 12) & (ENTRIES - 1);
        return tags[access][index] == tag(linear, user) ? hostPage[index] + (linear & PhysicalBus.PAGE_MASK) : -1;
    }

    public long read(long linear, int size, boolean user) {
        if ((linear & PhysicalBus.PAGE_MASK) + size <= 4096) {
            long host = hostFor(linear, READ, user);
            if (host >= 0) {
                return bus.readRam(host, size);
            }
            long physical = translate(linear, READ, user);
            state.debug.accessed(linear, size, false);
            return bus.read(physical, size);
        }
        return readSplit(linear, size, READ, user);
    }

    /** An instruction-fetch byte read, with execute permission. */
    public int fetch(long linear, boolean user) {
        long host = hostFor(linear, FETCH, user);
        if (host >= 0) {
            return (int) bus.readRam(host, 1);
        }
        return (int) bus.read(translate(linear, FETCH, user), 1);
    }

    public void write(long linear, int size, long value, boolean user) {
        if ((linear & PhysicalBus.PAGE_MASK) + size <= 4096) {
            long host = hostFor(linear, WRITE, user);
            if (host >= 0) {
                bus.writeRam(host, size, value);
            } else {
                long physical = translate(linear, WRITE, user);
                state.debug.accessed(linear, size, true);
                bus.write(physical, size, value);
            }
            return;
        }
        // Both pages must be writable before either is written, as on hardware.
        translate(linear, WRITE, user);
        translate(linear + size - 1, WRITE, user);
        state.debug.accessed(linear, size, true);
        for (int i = 0; i < size; i++) {
            bus.write(translate(linear + i, WRITE, user), 1, value >>> (8 * i));
        }
    }

    private long readSplit(long linear, int size, int access, boolean user) {
        long value = 0;
        for (int i = 0; i < size; i++) {
            value |= bus.read(translate(linear + i, access, user), 1) << (8 * i);
        }
        state.debug.accessed(linear, size, false);
        return value;
    }

    /**
     * The host offset of naturally aligned RAM that {@code linear} maps to for writing, or -1 when
     * the access is not aligned or not RAM; the caller then serializes by other means.
     */
    public long hostForAtomic(long linear, int size, boolean user) {
        if ((linear & (size - 1)) != 0) {
            return -1;
        }
        long physical = translate(linear, WRITE, user);
        state.debug.accessed(linear, size, true);
        long host = bus.hostPage(physical);
        return host < 0 ? -1 : host + (physical & PhysicalBus.PAGE_MASK);
    }

    /** Translates {@code linear} for {@code access}, walking the page tables on a TLB miss. */
    public long translate(long linear, int access, boolean user) {
        int index = (int) (linear >>> 12) & (ENTRIES - 1);
        if ((tags[access][index] & ~NOT_RAM) == tag(linear, user)) {
            return physicalPage[index] | (linear & PhysicalBus.PAGE_MASK);
        }
        return walk(linear, access, user, index);
    }

    private long walk(long linear, int access, boolean user, int index) {
        if (!state.pagingEnabled()) {
            long physical = state.longModeActive() ? linear : linear & 0xFFFF_FFFFL;
            fill(index, linear, user, physical & ~PhysicalBus.PAGE_MASK, true, true, true, false);
            return physical;
        }
        if (state.longModeActive()) {
            long high = linear >> 47;
            if (high != 0 && high != -1) {
                throw CpuException.generalProtection();
            }
        }
        boolean pae = (state.cr4 & ControlRegisters.CR4_PAE) != 0;
        boolean nxEnabled = (state.efer & ControlRegisters.EFER_NXE) != 0;
        long table;
        int levels;
        int entrySize;
        if (state.longModeActive()) {
            table = state.cr3 & ADDRESS_MASK;
            levels = 4;
            entrySize = 8;
        } else if (pae) {
            long pdpte = bus.read((state.cr3 & 0xFFFF_FFE0L) + ((linear >>> 30) & 3) * 8, 8);
            if ((pdpte & PTE_PRESENT) == 0) {
                throw fault(linear, access, user, 0);
            }
            table = pdpte & ADDRESS_MASK;
            levels = 2;
            entrySize = 8;
        } else {
            table = state.cr3 & 0xFFFF_F000L;
            levels = 2;
            entrySize = 4;
        }
        boolean writable = true;
        boolean userOk = true;
        boolean executable = true;
        for (int level = levels; level >= 1; level--) {
            int shift = entrySize == 4 ? 12 + 10 * (level - 1) : 12 + 9 * (level - 1);
            long slot = (linear >>> shift) & (entrySize == 4 ? 0x3FF : 0x1FF);
            long entryAddress = table + slot * entrySize;
            long entry = bus.read(entryAddress, entrySize);
            if ((entry & PTE_PRESENT) == 0) {
                throw fault(linear, access, user, 0);
            }
            boolean large = level > 1 && (entry & PTE_LARGE) != 0
                    && (level < 4) && (entrySize == 8 || (state.cr4 & ControlRegisters.CR4_PSE) != 0);
            if ((entry & reservedBits(level, entrySize, large, nxEnabled)) != 0) {
                throw fault(linear, access, user, PageFault.PRESENT | PageFault.RESERVED);
            }
            executable &= (entry & PTE_NX) == 0;
            writable &= (entry & PTE_WRITABLE) != 0;
            userOk &= (entry & PTE_USER) != 0;
            if (level == 1 || large) {
                checkAccess(linear, access, user, writable, userOk, executable);
                long updated = entry | PTE_ACCESSED | (access == WRITE ? PTE_DIRTY : 0);
                if (updated != entry) {
                    bus.write(entryAddress, entrySize, updated);
                }
                long pageMask = (1L << shift) - 1;
                long frame = entrySize == 4 && large
                        ? (entry & 0xFFC0_0000L) | ((entry & 0x1FE000L) << 19)
                        : entry & ADDRESS_MASK & ~pageMask;
                long physical = frame | (linear & pageMask);
                boolean dirty = (updated & PTE_DIRTY) != 0;
                fill(index, linear, user, physical & ~PhysicalBus.PAGE_MASK,
                        dirty && canWrite(user, writable), executable, true, (entry & PTE_GLOBAL) != 0);
                return physical;
            }
            if ((entry & PTE_ACCESSED) == 0) {
                bus.write(entryAddress, entrySize, entry | PTE_ACCESSED);
            }
            table = entry & (entrySize == 4 ? 0xFFFF_F000L : ADDRESS_MASK);
        }
        throw new IllegalStateException("page walk ended without a leaf");
    }

    /**
     * The bits of a present paging entry that must be clear: in 8-byte entries the address bits
     * above MAXPHYADDR ({@link #PHYSICAL_ADDRESS_BITS}, as CPUID 0x80000008 says), NX while EFER.NXE is off, PS in a PML4
     * entry, and the address bits below a large page's alignment (PAT aside); in a 4 MiB 32-bit
     * entry bit 21.
     */
    private static long reservedBits(int level, int entrySize, boolean large, boolean nxEnabled) {
        if (entrySize == 4) {
            return large ? 1L << 21 : 0;
        }
        long reserved = ABOVE_PHYSICAL_ADDRESS | (nxEnabled ? 0 : PTE_NX);
        if (level == 4) {
            reserved |= PTE_LARGE;
        } else if (large) {
            reserved |= level == 3 ? 0x3FFF_E000L : 0x1F_E000L;
        }
        return reserved;
    }

    private boolean canWrite(boolean user, boolean writable) {
        return writable || (!user && (state.cr0 & ControlRegisters.CR0_WP) == 0);
    }

    private void checkAccess(long linear, int access, boolean user, boolean writable, boolean userOk, boolean executable) {
        boolean denied = (user && !userOk)
                || (access == WRITE && !canWrite(user, writable))
                || (access == FETCH && !executable);
        if (denied) {
            throw fault(linear, access, user, PageFault.PRESENT);
        }
    }

    private PageFault fault(long linear, int access, boolean user, int bits) {
        int code = bits | (access == WRITE ? PageFault.WRITE : 0) | (user ? PageFault.USER : 0)
                | (access == FETCH && (state.efer & ControlRegisters.EFER_NXE) != 0 ? PageFault.FETCH : 0);
        return new PageFault(linear, code);
    }

    private void fill(int index, long linear, boolean user, long physical, boolean write, boolean fetch,
                      boolean read, boolean isGlobal) {
        long host = bus.hostPage(physical);
        long tag = tag(linear, user) | (host < 0 ? NOT_RAM : 0);
        physicalPage[index] = physical;
        hostPage[index] = host;
        global[index] = isGlobal;
        tags[READ][index] = read && !state.debug.watches(linear, false) ? tag : -1;
        tags[WRITE][index] = write && !state.debug.watches(linear, true) ? tag : -1;
        tags[FETCH][index] = fetch ? tag : -1;
    }
}
