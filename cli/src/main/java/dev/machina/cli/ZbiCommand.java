package dev.machina.cli;

import dev.machina.hypervisor.os.FileErrors;
import dev.machina.loader.ElfImage;
import dev.machina.loader.ImageException;
import dev.machina.loader.zbi.Zbi;
import dev.machina.loader.zbi.ZbiItem;
import dev.machina.loader.zbi.ZbiType;
import dev.machina.loader.zbi.ZirconKernel;
import dev.machina.vmm.config.ConfigException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code guest zbi}: Zircon boot images, for day-to-day use as Fuchsia's {@code zbi} tool: list an
 * image's items, create one from a kernel and items, extract the items into files. What list and
 * extract print (the items, the files written) goes to standard output; create's summary to the
 * messages.
 */
@Command(name = "zbi", mixinStandardHelpOptions = true,
        description = "Lists, creates and extracts Zircon boot images (ZBI).")
final class ZbiCommand {
    private static final byte[] ELF_MAGIC = {0x7F, 'E', 'L', 'F'};

    /** The command with its subcommands, which resolve paths against the environment's working directory. */
    static CommandLine commandLine(Environment environment) {
        return new CommandLine(new ZbiCommand())
                .addSubcommand("list", new ListItems(environment))
                .addSubcommand("create", new CreateImage(environment))
                .addSubcommand("extract", new ExtractItems(environment));
    }

    /** {@code guest zbi list IMAGE}: one line per item, with its offset, CRC32 and what it says. */
    @Command(name = "list", mixinStandardHelpOptions = true,
            description = "Lists an image's items: offset, type, length, CRC32 and contents.")
    static final class ListItems implements Callable<Integer> {
        private final Environment environment;

        @Mixin
        private ImageParameter image;

        ListItems(Environment environment) {
            this.environment = environment;
        }

        @Override
        public Integer call() {
            Zbi zbi = image.read(environment);
            PrintStream out = output(environment);
            out.printf("%s: %d items, %,d bytes%n", image.path(), zbi.items().size(), zbi.size());
            long offset = Zbi.HEADER_SIZE;
            for (ZbiItem item : zbi.items()) {
                String kernel = ZbiType.isKernel(item.type()) && item.length() >= ZirconKernel.KERNEL_HEADER_SIZE
                        ? ": entry 0x%x, reserve_memory_size 0x%x".formatted(item.u64(0), item.u64(8)) : "";
                out.printf("0x%08x %6s  %s%s%n", offset, item.hasCrc32() ? "crc32" : "no-crc",
                        item.describe(), kernel);
                offset += Zbi.HEADER_SIZE + Zbi.align(item.length());
            }
            return 0;
        }
    }

    /**
     * {@code guest zbi create --output=FILE INPUT...}: an image of the inputs' items in order: an
     * ELF linked at 0x100050 becomes the KERNEL_X64 item, {@code TYPE=FILE} an item of TYPE whose
     * payload is FILE, any other file is read as a ZBI and its items taken; then the command lines.
     * A bootable image has its kernel first; a partial one (a ramdisk for {@code --ramdisk}) none.
     */
    @Command(name = "create", mixinStandardHelpOptions = true,
            description = "Creates an image from a kernel and items.")
    static final class CreateImage implements Callable<Integer> {
        private final Environment environment;

        @Option(names = {"-o", "--output"}, required = true, paramLabel = "FILE", description = "the image to write")
        private Path output;

        @Parameters(paramLabel = "INPUT", description = "an x86-64 ELF linked at 0x100050 (the KERNEL_X64 item),"
                + " TYPE=FILE (an item of TYPE, a name such as STORAGE_BOOTFS or 0x..., whose payload is FILE),"
                + " or a ZBI whose items are taken")
        private List<String> inputs = new ArrayList<>();

        @Option(names = "--cmdline", paramLabel = "TEXT", description = "a CMDLINE item; repeatable")
        private List<String> commandLines = new ArrayList<>();

        CreateImage(Environment environment) {
            this.environment = environment;
        }

        @Override
        public Integer call() {
            Path directory = environment.workingDirectory();
            List<ZbiItem> all = new ArrayList<>();
            for (String input : inputs) {
                int equals = input.indexOf('=');
                if (equals >= 0) {
                    all.add(ZbiItem.of(itemType(input, input.substring(0, equals)), 0,
                            readFile(directory.resolve(input.substring(equals + 1)))));
                } else if (isElf(directory.resolve(input))) {
                    all.add(ZirconKernel.fromElf(ElfImage.read(directory.resolve(input))));
                } else {
                    all.addAll(Zbi.read(directory.resolve(input)).items());
                }
            }
            commandLines.forEach(text -> all.add(ZbiItem.commandLine(text)));
            Zbi zbi = new Zbi(all);
            zbi.write(directory.resolve(output));
            environment.messages().printf("%s: %d items, %,d bytes%n", output, all.size(), zbi.size());
            return 0;
        }

        private static int itemType(String input, String type) {
            try {
                return ZbiType.parse(type);
            } catch (IllegalArgumentException e) {
                throw new ConfigException("zbi create: " + input + ": " + e.getMessage());
            }
        }
    }

    /**
     * {@code guest zbi extract IMAGE [--output=DIR] [--type=TYPE]...}: each item's payload into
     * {@code NNN.TYPE.bin} (a CMDLINE's into {@code .txt}), numbered from 001 in the image's order.
     */
    @Command(name = "extract", mixinStandardHelpOptions = true,
            description = "Writes each item's payload into a file of its own.")
    static final class ExtractItems implements Callable<Integer> {
        private final Environment environment;

        @Mixin
        private ImageParameter image;

        @Option(names = {"-o", "--output"}, paramLabel = "DIR", description = "where the files go (default: the current directory)")
        private Path output = Path.of("");

        @Option(names = "--type", paramLabel = "TYPE", description = "extract only items of TYPE; repeatable")
        private List<String> types = new ArrayList<>();

        ExtractItems(Environment environment) {
            this.environment = environment;
        }

        @Override
        public Integer call() throws IOException {
            List<Integer> wanted = new ArrayList<>();
            for (String type : types) {
                try {
                    wanted.add(ZbiType.parse(type));
                } catch (IllegalArgumentException e) {
                    throw new ConfigException("zbi extract: --type: " + e.getMessage());
                }
            }
            List<ZbiItem> items = image.read(environment).items();
            Path directory = environment.workingDirectory().resolve(output);
            Files.createDirectories(directory);
            PrintStream out = output(environment);
            for (int i = 0; i < items.size(); i++) {
                ZbiItem item = items.get(i);
                if (!wanted.isEmpty() && !wanted.contains(item.type())) {
                    continue;
                }
                Path file = directory.resolve("%03d.%s.%s".formatted(i + 1, ZbiType.name(item.type()),
                        item.type() == ZbiType.CMDLINE.code() ? "txt" : "bin"));
                Files.write(file, item.payload());
                out.printf("%s: %s%n", file, item.describe());
            }
            return 0;
        }
    }

    /** The IMAGE that list and extract read, relative to the working directory. */
    static final class ImageParameter {
        @Parameters(index = "0", paramLabel = "IMAGE", description = "the ZBI file")
        private Path path;

        Path path() {
            return path;
        }

        Zbi read(Environment environment) {
            return Zbi.read(environment.workingDirectory().resolve(path));
        }
    }

    /** Where a listing goes: the command's standard output, not its messages. */
    private static PrintStream output(Environment environment) {
        return new PrintStream(environment.consoleOutput(), true, StandardCharsets.UTF_8);
    }

    private static boolean isElf(Path file) {
        byte[] bytes = readFile(file);
        return bytes.length >= ELF_MAGIC.length && Arrays.equals(bytes, 0, ELF_MAGIC.length, ELF_MAGIC, 0, ELF_MAGIC.length);
    }

    private static byte[] readFile(Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new ImageException(file, "no such file");
        } catch (IOException e) {
            throw new ImageException(file, "cannot read: " + FileErrors.reason(e));
        }
    }
}
