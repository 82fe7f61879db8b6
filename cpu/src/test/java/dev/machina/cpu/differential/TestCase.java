package dev.machina.cpu.differential;

import java.util.HexFormat;

/**
 * One generated instruction with the state it starts from, and what of the result is defined:
 * the RFLAGS bits to compare and the registers to compare (a mask by number).
 */
record TestCase(Template template, String text, byte[] code, MachineState initial, long comparedFlags, int comparedRegisters) {
    String hex() {
        return HexFormat.ofDelimiter(" ").formatHex(code);
    }
}
