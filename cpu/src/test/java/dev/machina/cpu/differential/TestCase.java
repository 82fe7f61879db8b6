package dev.machina.cpu.differential;

import java.util.HexFormat;

/**
 * One generated instruction with the state it starts from, and what of the result is defined:
 * the RFLAGS bits to compare, the registers to compare (a mask by number) and the x87 status
 * word bits to compare.
 */
record TestCase(Template template, String text, byte[] code, MachineState initial, long comparedFlags, int comparedRegisters,
                int comparedStatus) {
    String hex() {
        return HexFormat.ofDelimiter(" ").formatHex(code);
    }
}
