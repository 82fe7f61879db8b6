package dev.machina.vmm.packages;

import com.fasterxml.jackson.annotation.JsonProperty;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Assembles sources with GNU as (x86-64) and links them with ld under the package's linker script
 * into one ELF file: {@code {"kind": "assemble", "sources": ["hello.S"], "linker-script": "hello.ld",
 * "output": "hello.elf"}}.
 */
public record AssembleRecipe(List<String> sources, @JsonProperty("linker-script") String linkerScript,
                             String output) implements Recipe {
    static final String KIND = "assemble";

    public AssembleRecipe {
        if (sources == null || sources.isEmpty() || linkerScript == null || output == null) {
            throw new IllegalArgumentException("an \"assemble\" recipe needs \"sources\", \"linker-script\" and \"output\"");
        }
        sources = List.copyOf(sources);
    }

    @Override
    public List<String> inputs() {
        List<String> inputs = new ArrayList<>(sources);
        inputs.add(linkerScript);
        return inputs;
    }

    @Override
    public List<String> outputs() {
        return List.of(output);
    }

    @Override
    public void build(Path packageDirectory, Path outputDirectory, Tools tools) {
        List<String> objects = new ArrayList<>();
        for (String source : sources) {
            String object = outputDirectory.resolve(Path.of(source).getFileName() + ".o").toString();
            tools.run("assembling " + source, List.of("as", "--64", "-o", object, source));
            objects.add(object);
        }
        List<String> link = new ArrayList<>(List.of("ld", "-static", "-nostdlib", "-T", linkerScript,
                "-o", outputDirectory.resolve(output).toString()));
        link.addAll(objects);
        tools.run("linking " + output, link);
    }
}
