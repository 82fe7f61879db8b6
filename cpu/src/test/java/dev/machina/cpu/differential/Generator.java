package dev.machina.cpu.differential;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Set;
import java.util.random.RandomGenerator;

/**
 * Draws test cases from a list of families, keeping only the templates the host can execute. A
 * third of the cases put a {@link FlagSetter} first, so the instruction starts on pending flags.
 */
final class Generator {
    /**
     * The flags a comparison looks at before undefined ones are taken out: all that ring 3 can
     * see (VM, VIF and VIP cannot be set there; PUSHF and POPF reach the others).
     */
    static final long COMPARED_FLAGS = Behaviour.ARITHMETIC | MachineState.TF | MachineState.IF | MachineState.DF
            | 3 << 12 | 1 << 14 | 1 << 16 | 1 << 18 | 1 << 21;
    private static final int MAXIMUM_LENGTH = 15;

    private final List<Family> families;
    private final CaseBuilder.Layout layout;

    Generator(List<Family> families, Set<String> hostFeatures, CaseBuilder.Layout layout) {
        this.families = families.stream()
                .map(f -> new Family(f.name(), f.templates().stream()
                        .filter(t -> t.hostFeature() == null || hostFeatures.contains(t.hostFeature()))
                        .toList()))
                .filter(f -> !f.templates().isEmpty())
                .toList();
        if (this.families.isEmpty()) {
            throw new IllegalArgumentException("no family has a template this host can run");
        }
        this.layout = layout;
    }

    TestCase next(RandomGenerator random) {
        Family family = families.get(random.nextInt(families.size()));
        Template template = family.templates().get(random.nextInt(family.templates().size()));
        while (true) {
            FlagSetter setter = random.nextInt(3) == 0 ? FlagSetter.draw(random) : null;
            CaseBuilder c = new CaseBuilder(template, layout.after(setter == null ? 0 : setter.length()), random);
            InstructionEncoder.Encoded encoded = InstructionEncoder.encode(c);
            if (encoded.bytes().length <= MAXIMUM_LENGTH) {
                int compared = 0xFFFF & ~template.behaviour().undefinedRegisters(c);
                long flags = COMPARED_FLAGS & ~template.behaviour().undefinedFlags(c);
                String text = encoded.text();
                byte[] code = encoded.bytes();
                if (setter != null) {
                    InstructionEncoder.Encoded first = setter.bind(c, random);
                    text = first.text() + " ; " + text;
                    code = ByteBuffer.allocate(first.bytes().length + code.length).put(first.bytes()).put(code).array();
                }
                return new TestCase(template, text, code, c.initialState(), flags, compared);
            }
        }
    }
}
