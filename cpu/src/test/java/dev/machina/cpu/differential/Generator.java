package dev.machina.cpu.differential;

import java.util.List;
import java.util.Set;
import java.util.random.RandomGenerator;

/** Draws test cases from a list of families, keeping only the templates the host can execute. */
final class Generator {
    /** The flags a comparison looks at before undefined ones are taken out: the arithmetic ones and DF. */
    static final long COMPARED_FLAGS = Behaviour.ARITHMETIC | MachineState.DF;
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
            CaseBuilder c = new CaseBuilder(template, layout, random);
            InstructionEncoder.Encoded encoded = InstructionEncoder.encode(c);
            if (encoded.bytes().length <= MAXIMUM_LENGTH) {
                int compared = 0xFFFF & ~(1 << MachineState.RSP) & ~template.behaviour().undefinedRegisters(c);
                long flags = COMPARED_FLAGS & ~template.behaviour().undefinedFlags(c);
                return new TestCase(template, encoded.text(), encoded.bytes(), c.initialState(), flags, compared);
            }
        }
    }
}
