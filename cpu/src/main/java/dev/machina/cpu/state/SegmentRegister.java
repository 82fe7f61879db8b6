package dev.machina.cpu.state;

import dev.machina.hypervisor.x86.Segment;

/**
 * A segment register with its hidden descriptor cache, mutable so that loading a segment allocates
 * nothing. The attributes use {@link Segment}'s (VMX) layout.
 */
public final class SegmentRegister {
    public int selector;
    public long base;
    public int limit;
    public int attributes;

    public void load(Segment segment) {
        selector = segment.selector();
        base = segment.base();
        limit = segment.limit();
        attributes = segment.accessRights();
    }

    public Segment toSegment() {
        return new Segment(selector, base, limit, attributes);
    }

    /** Real-mode (and virtual-8086) semantics: base is the selector times 16. */
    public void loadReal(int value) {
        selector = value & 0xFFFF;
        base = (long) selector << 4;
    }

    /** Loads from an 8-byte descriptor (its two halves as read from the table). */
    public void loadDescriptor(int value, long descriptor) {
        selector = value & 0xFFFF;
        base = Descriptors.base(descriptor);
        limit = Descriptors.limit(descriptor);
        attributes = Descriptors.attributes(descriptor);
    }

    public int dpl() {
        return (attributes >> 5) & 3;
    }

    public boolean longMode() {
        return (attributes & (1 << 13)) != 0;
    }

    public boolean defaultBig() {
        return (attributes & (1 << 14)) != 0;
    }

    public boolean usable() {
        return (attributes & Segment.UNUSABLE) == 0;
    }
}
