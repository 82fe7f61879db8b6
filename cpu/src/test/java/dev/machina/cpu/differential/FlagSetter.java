package dev.machina.cpu.differential;

import dev.machina.cpu.differential.Operand.Gpr;
import dev.machina.cpu.differential.Operand.Indexed;
import dev.machina.cpu.differential.Operand.Memory;

import java.util.random.RandomGenerator;

/**
 * An arithmetic instruction put before the one under test so that it starts with flags still
 * pending: the Java CPU derives flags lazily from the last arithmetic result, and a case that
 * starts from a loaded RFLAGS would never see ADC, SETcc, CMOVcc, RCL or INC read them that way.
 *
 * <p>It defines every flag (ADD, ADC, SUB, SBB, CMP, INC, DEC, NEG), so the flags the instruction
 * under test leaves alone stay defined, and writes only a scratch register from R8..R15 that the
 * instruction does not name; the instructions using registers implicitly use only RAX..RDI, so
 * the prepared state of the instruction under test still holds when it runs.
 */
final class FlagSetter {
    private static final String[] ALU_NAMES = {"add", null, "adc", "sbb", null, "sub", null, "cmp"};
    private static final int[] ALU = {0, 2, 3, 5, 7};
    private static final String[] UNARY_NAMES = {"inc", "dec", null, "neg"};
    private static final int[] UNARY = {0, 1, 3};

    private enum Form { REGISTER, IMMEDIATE, UNARY }

    private final Form form;
    private final int operation;
    private final int size;
    private final long immediate;

    private FlagSetter(Form form, int operation, int size, long immediate) {
        this.form = form;
        this.operation = operation;
        this.size = size;
        this.immediate = immediate;
    }

    static FlagSetter draw(RandomGenerator random) {
        Form form = Form.values()[random.nextInt(Form.values().length)];
        int operation = form == Form.UNARY ? UNARY[random.nextInt(UNARY.length)] : ALU[random.nextInt(ALU.length)];
        return new FlagSetter(form, operation, 1 << random.nextInt(4), Values.interesting(random, 1));
    }

    /** The length in bytes, which the choice of registers does not change (there is always a REX prefix). */
    int length() {
        return (size == 2 ? 1 : 0) + 3 + (form == Form.IMMEDIATE ? 1 : 0);
    }

    /** The setter's bytes and text, with a scratch register that {@code c} leaves alone. */
    InstructionEncoder.Encoded bind(CaseBuilder c, RandomGenerator random) {
        int used = 0;
        if (c.reg instanceof Gpr g) {
            used |= 1 << g.underlying();
        }
        switch (c.rm) {
            case Gpr g -> used |= 1 << g.underlying();
            case Memory m when m.address() instanceof Indexed x -> used |= (x.base() >= 0 ? 1 << x.base() : 0) | (x.index() >= 0 ? 1 << x.index() : 0);
            case null, default -> {
            }
        }
        int scratch;
        do {
            scratch = 8 + random.nextInt(8);
        } while ((used >> scratch & 1) != 0);
        int source = random.nextInt(16);
        byte[] bytes = new byte[length()];
        int at = 0;
        if (size == 2) {
            bytes[at++] = 0x66;
        }
        bytes[at++] = (byte) (0x40 | (size == 8 ? 8 : 0) | (form == Form.REGISTER && source >= 8 ? 4 : 0) | 1);
        int wide = size == 1 ? 0 : 1;
        String text;
        Gpr destination = Gpr.of(scratch, size);
        switch (form) {
            case REGISTER -> {
                bytes[at++] = (byte) (operation * 8 + wide);
                bytes[at] = (byte) (0xC0 | (source & 7) << 3 | scratch & 7);
                text = ALU_NAMES[operation] + " " + destination.name() + ", " + Gpr.of(source, size).name();
            }
            case IMMEDIATE -> {
                bytes[at++] = (byte) (size == 1 ? 0x80 : 0x83);
                bytes[at++] = (byte) (0xC0 | operation << 3 | scratch & 7);
                bytes[at] = (byte) immediate;
                text = ALU_NAMES[operation] + " " + destination.name() + ", 0x" + Long.toHexString(immediate);
            }
            default -> {
                bytes[at++] = (byte) ((operation == 3 ? 0xF6 : 0xFE) + wide);
                bytes[at] = (byte) (0xC0 | operation << 3 | scratch & 7);
                text = UNARY_NAMES[operation] + " " + destination.name();
            }
        }
        return new InstructionEncoder.Encoded(bytes, text);
    }
}
