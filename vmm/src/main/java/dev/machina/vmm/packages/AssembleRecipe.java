package dev.machina.vmm.packages;

import com.fasterxml.jackson.annotation.JsonProperty;

import dev.machina.loader.ElfImage;
import dev.machina.loader.zbi.Zbi;
import dev.machina.loader.zbi.ZirconKernel;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Assembles sources with GNU as (x86-64) and links them with ld under the package's linker script
 * into one ELF file: {@code {"kind": "assemble", "sources": ["hello.S"], "linker-script": "hello.ld",
 * "output": "hello.elf"}}. With {@code "zbi": "NAME.zbi"} the ELF, linked at 0x100050, is also
 * written as a bootable ZBI holding it as the KERNEL_X64 item ({@link ZirconKernel#fromElf}).
 *
 * @param zbi the ZBI to write too, or null (the key is optional)
 */
public record AssembleRecipe(List<String> sources, @JsonProperty("linker-script") String linkerScript,
                             String output, String zbi) implements Recipe {
    static final String KIND = "assemble";

    public AssembleRecipe {
        if (sources == null || sources.isEmpty() || linkerScript == null || output == null) {
            throw new IllegalArgumentException("an \"assemble\" recipe needs \"sources\", \"linker-script\" and \"output\"");
        }
        sources = List.copyOf(sources);
    }

    @Override
    public int builderRevision() {
        return 1;
    }

    @Override
    public List<String> inputs() {
        List<String> inputs = new ArrayList<>(sources);
        inputs.add(linkerScript);
        return inputs;
    }

    @Override
    public List<String> outputs() {
        List<String> outputs = new ArrayList<>(List.of(output));
        zbiOutput().ifPresent(outputs::add);
        return outputs;
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
        zbiOutput().ifPresent(image -> {
            tools.report("writing " + image + " (the kernel as a ZBI)");
            new Zbi(List.of(ZirconKernel.fromElf(ElfImage.read(outputDirectory.resolve(output))))).write(outputDirectory.resolve(image));
        });
    }

    private Optional<String> zbiOutput() {
        return Optional.ofNullable(zbi);
    }
}
