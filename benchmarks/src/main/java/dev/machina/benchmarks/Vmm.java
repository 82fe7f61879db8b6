package dev.machina.benchmarks;

/** The two VMMs every guest benchmark compares: Machina on its Java CPU, and its peer, QEMU's software emulation. */
enum Vmm {
    MACHINA("Machina (Java CPU)"),
    QEMU("QEMU TCG");

    private final String title;

    Vmm(String title) {
        this.title = title;
    }

    @Override
    public String toString() {
        return title;
    }
}
