package dev.machina.cpu.chipset;

/** A wire between two parts of the chipset that carries a level (the PIC's INTR into LINT0). */
@FunctionalInterface
interface InterruptLine {
    void set(boolean asserted);
}
