package dev.machina.cpu.differential;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The generator's promise, checked on the Java CPU alone and so on any host: every template is
 * drawn, and what it draws completes without a fault (on the host a fault would kill the JVM).
 */
class GeneratorTest {
    private static final long CODE_PAGE = 0x5000_0000L;
    private static final long DATA = CODE_PAGE + 2 * HostCpu.PAGE;

    @Test
    void everyTemplateIsDrawnAndNoneFaults() {
        CaseBuilder.Layout layout = new CaseBuilder.Layout(CODE_PAGE + 0x80, DATA, Differential.DATA_SIZE);
        Set<String> everyFeature = new HashSet<>();
        Families.DEFAULT.forEach(f -> f.templates().forEach(t -> everyFeature.add(t.hostFeature())));
        Generator generator = new Generator(Families.DEFAULT, everyFeature, layout);
        Set<String> drawn = new HashSet<>();
        SplittableRandom random = new SplittableRandom(42);
        try (SimulatedCpu cpu = new SimulatedCpu(layout.instructionAddress(), DATA, Differential.DATA_SIZE, false)) {
            for (int i = 0; i < 40_000; i++) {
                TestCase c = generator.next(random);
                drawn.add(c.template().key());
                SimulatedCpu.Outcome outcome = cpu.run(c.code(), c.initial());
                assertThat(outcome).as("%s [%s]", c.text(), c.hex()).isInstanceOf(SimulatedCpu.Completed.class);
            }
        }
        List<String> all = Families.DEFAULT.stream().flatMap(f -> f.templates().stream()).map(Template::key).toList();
        assertThat(drawn).containsAll(all);
    }
}
