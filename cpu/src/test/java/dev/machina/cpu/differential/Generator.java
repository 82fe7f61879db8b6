package dev.machina.cpu.differential;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.random.RandomGenerator;
import java.util.stream.Collectors;

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
        Behaviour behaviour = template.behaviour();
        while (true) {
            FlagSetter setter = random.nextInt(3) == 0 ? FlagSetter.draw(random) : null;
            FlagSetter skipped = behaviour.skipsOver() ? FlagSetter.draw(random) : null;
            CaseBuilder.Layout placed = layout.after(setter == null ? 0 : setter.length()).followedBy(skipped == null ? 0 : skipped.length());
            CaseBuilder c = new CaseBuilder(template, placed, random);
            InstructionEncoder.Encoded encoded = InstructionEncoder.encode(c);
            int room = MAXIMUM_LENGTH - encoded.bytes().length;
            if (room > 0 && random.nextInt(16) == 0) {
                // Often right up to the limit: a 15-byte instruction is legal, a 16-byte one faults.
                c.padding = random.nextBoolean() ? room : 1 + random.nextInt(room);
                encoded = InstructionEncoder.encode(c);
            }
            if (encoded.bytes().length <= MAXIMUM_LENGTH) {
                behaviour.placed(c, placed.instructionAddress() + encoded.bytes().length + placed.following());
                int compared = 0xFFFF & ~behaviour.undefinedRegisters(c);
                long flags = COMPARED_FLAGS & ~behaviour.undefinedFlags(c);
                List<InstructionEncoder.Encoded> parts = new ArrayList<>();
                if (setter != null) {
                    parts.add(setter.bind(c, random));
                }
                parts.add(encoded);
                if (skipped != null) {
                    parts.add(skipped.bind(c, random));
                }
                String text = parts.stream().map(InstructionEncoder.Encoded::text).collect(Collectors.joining(" ; "));
                ByteArrayOutputStream code = new ByteArrayOutputStream();
                parts.forEach(p -> code.writeBytes(p.bytes()));
                int status = 0xFFFF & ~behaviour.undefinedStatus(c);
                return new TestCase(template, text, code.toByteArray(), c.initialState(), flags, compared, status);
            }
        }
    }
}
