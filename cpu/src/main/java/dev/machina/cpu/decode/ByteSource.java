package dev.machina.cpu.decode;

/** The bytes of the instruction being decoded, counted from its first prefix. */
@FunctionalInterface
public interface ByteSource {
    int byteAt(int index);
}
