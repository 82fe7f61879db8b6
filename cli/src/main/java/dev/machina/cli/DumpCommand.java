package dev.machina.cli;

import dev.machina.cli.control.ControlServer;
import dev.machina.cli.instance.InstanceException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.nio.charset.StandardCharsets;

/** {@code guest dump ID ADDR LEN}: a hex dump of guest-physical memory, read while the guest runs. */
@Command(name = "dump", description = "Prints guest-physical memory as hex and ASCII, 16 bytes a line; ADDR and LEN in hex (0x optional).")
final class DumpCommand extends InstanceVerb {
    @Parameters(index = "1", paramLabel = "ADDR", description = "the first guest-physical address, in hex")
    private String address;

    @Parameters(index = "2", paramLabel = "LEN", description = "how many bytes, in hex, at most 0x100000")
    private String length;

    DumpCommand(Environment environment) {
        super(environment);
    }

    @Override
    public Integer call() throws Exception {
        long start = HexDump.parseHex("ADDR", address);
        long count = HexDump.parseHex("LEN", length);
        if (count == 0 || count > ControlServer.MAX_MEMORY_READ) {
            throw new InstanceException("LEN must be 1 to 0x" + Integer.toHexString(ControlServer.MAX_MEMORY_READ));
        }
        byte[] bytes = control().getBytes("/machina/memory?address=0x%x&length=%d".formatted(start, count));
        environment.consoleOutput().write(HexDump.format(start, bytes).getBytes(StandardCharsets.US_ASCII));
        environment.consoleOutput().flush();
        return 0;
    }
}
