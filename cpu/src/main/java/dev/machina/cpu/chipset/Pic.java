package dev.machina.cpu.chipset;

import dev.machina.hypervisor.TrapHandler;

/**
 * The cascaded pair of 8259A programmable interrupt controllers of the PC: the master at ports
 * 0x20-0x21 with the slave on its IRQ2, the slave at 0xA0-0xA1, and the edge/level control
 * registers (ELCR) at 0x4D0-0x4D1. The master's INTR output drives the boot processor's LINT0; the
 * local APIC's INTA cycle is {@link #acknowledge()}.
 *
 * <p>Modelled: the ICW1-ICW4 initialisation sequence, OCW1 (mask), OCW2 (non-specific, specific
 * and rotating EOIs, set priority), OCW3 (read IRR/ISR, poll, special mask), auto-EOI with
 * rotation, special fully nested mode, edge or level inputs per ELCR, spurious IRQ7/IRQ15. Not
 * modelled: 8080/8085 mode, buffered mode and ICW1's global level-trigger bit (ELCR rules instead).
 * One lock serves the pair, so a cascade is always seen whole.
 */
public final class Pic {
    public static final int MASTER_PORT = 0x20;
    public static final int SLAVE_PORT = 0xA0;
    public static final int ELCR_PORT = 0x4D0;
    /** Each controller and the ELCR pair decode two ports. */
    public static final int PORTS = 2;
    static final int CASCADE_IRQ = 2;
    private static final int SPURIOUS_IRQ = 7;

    private final Controller master = new Controller(0xF8);
    private final Controller slave = new Controller(0xDE);
    private final TrapHandler elcr = new Elcr();
    private InterruptLine output = asserted -> { };
    private boolean outputAsserted;

    /** The master controller's ports (0x20-0x21). */
    public TrapHandler master() {
        return master;
    }

    /** The slave controller's ports (0xA0-0xA1). */
    public TrapHandler slave() {
        return slave;
    }

    /** The edge/level control registers (0x4D0-0x4D1): a bit per IRQ, 1 for level-triggered. */
    public TrapHandler elcr() {
        return elcr;
    }

    /** Connects the INTR output; it is driven with its current level at once. */
    synchronized void connectOutput(InterruptLine line) {
        output = line;
        line.set(outputAsserted);
    }

    /** Drives ISA interrupt line {@code irq} (0-15). */
    public synchronized void setIrq(int irq, boolean level) {
        (irq < 8 ? master : slave).setLine(irq & 7, level);
        update();
    }

    /**
     * The INTA cycle: the highest-priority request goes in service (through the cascade for IRQs
     * 8-15) and its vector is returned. With nothing to serve any more, the controller answers with
     * its IRQ7 vector, the spurious interrupt, and sets no ISR bit.
     */
    public synchronized int acknowledge() {
        int irq = master.highestRequest();
        int vector;
        if (irq < 0) {
            vector = master.vectorBase + SPURIOUS_IRQ;
        } else {
            master.acknowledge(irq);
            if (irq == CASCADE_IRQ) {
                int slaveIrq = slave.highestRequest();
                if (slaveIrq < 0) {
                    vector = slave.vectorBase + SPURIOUS_IRQ;
                } else {
                    slave.acknowledge(slaveIrq);
                    vector = slave.vectorBase + slaveIrq;
                }
            } else {
                vector = master.vectorBase + irq;
            }
        }
        update();
        return vector;
    }

    /** Propagates the slave's INT to the master's IR2 (a level, as the slave holds it until INTA) and the master's to INTR. */
    private void update() {
        master.setCascade(slave.highestRequest() >= 0);
        boolean asserted = master.highestRequest() >= 0;
        if (asserted != outputAsserted) {
            outputAsserted = asserted;
            output.set(asserted);
        }
    }

    /** One 8259A. */
    private final class Controller implements TrapHandler {
        private final int levelCapable;
        private int requests;
        private int lines;
        private int inService;
        /** Everything is masked until the guest initialises the controller, so no IRQ arrives at vector base 0. */
        private int mask = 0xFF;
        private int levelTriggered;
        private int lowestPriorityIrq = 7;
        private int vectorBase;
        /** The initialisation word expected next: 2, 3, 4, or 0 when initialised. */
        private int expectedIcw;
        private boolean needsIcw4;
        private boolean single;
        private boolean autoEoi;
        private boolean rotateOnAutoEoi;
        private boolean specialFullyNested;
        private boolean specialMask;
        private boolean poll;
        private boolean readInService;

        Controller(int levelCapable) {
            this.levelCapable = levelCapable;
        }

        @Override
        public long read(long offset, int size) {
            synchronized (Pic.this) {
                if (offset != 0) {
                    return mask;
                }
                if (poll) {
                    poll = false;
                    return pollRead();
                }
                return readInService ? inService : requests;
            }
        }

        @Override
        public void write(long offset, int size, long value) {
            int data = (int) value & 0xFF;
            synchronized (Pic.this) {
                if (offset == 0) {
                    writeCommand(data);
                } else {
                    writeData(data);
                }
                update();
            }
        }

        private void writeCommand(int data) {
            if ((data & 0x10) != 0) {
                initialise(data);
            } else if ((data & 0x08) != 0) {
                operationControl3(data);
            } else {
                operationControl2(data);
            }
        }

        /** ICW1: everything but ELCR back to its initial state; ICW2 (and ICW3, ICW4) follow. */
        private void initialise(int icw1) {
            needsIcw4 = (icw1 & 0x01) != 0;
            single = (icw1 & 0x02) != 0;
            requests &= levelTriggered;
            lines = 0;
            inService = 0;
            mask = 0;
            lowestPriorityIrq = 7;
            specialMask = false;
            poll = false;
            readInService = false;
            rotateOnAutoEoi = false;
            autoEoi = false;
            specialFullyNested = false;
            expectedIcw = 2;
        }

        private void writeData(int data) {
            switch (expectedIcw) {
                case 2 -> {
                    vectorBase = data & 0xF8;
                    expectedIcw = !single ? 3 : needsIcw4 ? 4 : 0;
                }
                case 3 -> expectedIcw = needsIcw4 ? 4 : 0;
                case 4 -> {
                    autoEoi = (data & 0x02) != 0;
                    specialFullyNested = (data & 0x10) != 0;
                    expectedIcw = 0;
                }
                default -> mask = data;
            }
        }

        private void operationControl2(int data) {
            int irq = data & 7;
            switch (data >>> 5) {
                case 0 -> rotateOnAutoEoi = false;
                case 4 -> rotateOnAutoEoi = true;
                case 1, 5 -> {
                    int served = highestOf(inService);
                    if (served >= 0) {
                        inService &= ~(1 << served);
                        if (data >>> 5 == 5) {
                            lowestPriorityIrq = served;
                        }
                    }
                }
                case 3 -> inService &= ~(1 << irq);
                case 6 -> lowestPriorityIrq = irq;
                case 7 -> {
                    inService &= ~(1 << irq);
                    lowestPriorityIrq = irq;
                }
                default -> {
                    // 2: no operation.
                }
            }
        }

        private void operationControl3(int data) {
            if ((data & 0x04) != 0) {
                poll = true;
            }
            if ((data & 0x02) != 0) {
                readInService = (data & 0x01) != 0;
            }
            if ((data & 0x40) != 0) {
                specialMask = (data & 0x20) != 0;
            }
        }

        /** The poll command: acknowledges like INTA and reads 0x80 | the IRQ, or 0 when none is requesting. */
        private int pollRead() {
            int irq = highestRequest();
            if (irq < 0) {
                return 0;
            }
            acknowledge(irq);
            return 0x80 | irq;
        }

        void setLine(int irq, boolean level) {
            int bit = 1 << irq;
            if ((levelTriggered & bit) != 0) {
                requests = level ? requests | bit : requests & ~bit;
            } else if (level && (lines & bit) == 0) {
                requests |= bit;
            }
            lines = level ? lines | bit : lines & ~bit;
        }

        void setCascade(boolean slaveRequesting) {
            int bit = 1 << CASCADE_IRQ;
            requests = slaveRequesting ? requests | bit : requests & ~bit;
        }

        void acknowledge(int irq) {
            int bit = 1 << irq;
            if (autoEoi) {
                if (rotateOnAutoEoi) {
                    lowestPriorityIrq = irq;
                }
            } else {
                inService |= bit;
            }
            if ((levelTriggered & bit) == 0) {
                requests &= ~bit;
            }
        }

        /** The IRQ this controller would interrupt with now, or -1: the best unmasked request above everything in service. */
        int highestRequest() {
            int request = highestOf(requests & ~mask);
            if (request < 0) {
                return -1;
            }
            int blocking = specialMask ? inService & ~mask : inService;
            if (specialFullyNested && this == master) {
                // The slave may interrupt again above an in-service request of its own.
                blocking &= ~(1 << CASCADE_IRQ);
            }
            int served = highestOf(blocking);
            return served < 0 || rank(request) < rank(served) ? request : -1;
        }

        /** Of the IRQs in {@code bits}, the one with the highest priority, or -1. */
        private int highestOf(int bits) {
            for (int rank = 0; rank < 8; rank++) {
                int irq = (lowestPriorityIrq + 1 + rank) & 7;
                if ((bits & (1 << irq)) != 0) {
                    return irq;
                }
            }
            return -1;
        }

        /** 0 for the highest priority, 7 for the lowest. */
        private int rank(int irq) {
            return (irq - lowestPriorityIrq - 1) & 7;
        }
    }

    /** ELCR1 (0x4D0) for IRQs 0-7 and ELCR2 (0x4D1) for 8-15; IRQs 0, 1, 2, 8 and 13 are always edge. */
    private final class Elcr implements TrapHandler {
        @Override
        public long read(long offset, int size) {
            synchronized (Pic.this) {
                long value = 0;
                for (int i = 0; i < size && offset + i < PORTS; i++) {
                    value |= (long) controller(offset + i).levelTriggered << (8 * i);
                }
                return value;
            }
        }

        @Override
        public void write(long offset, int size, long value) {
            synchronized (Pic.this) {
                for (int i = 0; i < size && offset + i < PORTS; i++) {
                    Controller controller = controller(offset + i);
                    controller.levelTriggered = (int) (value >>> (8 * i)) & controller.levelCapable;
                }
                update();
            }
        }

        private Controller controller(long offset) {
            return offset == 0 ? master : slave;
        }
    }
}
