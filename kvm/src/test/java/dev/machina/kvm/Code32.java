package dev.machina.kvm;

import java.io.ByteArrayOutputStream;

/**
 * A few 32-bit x86 instructions, hand-encoded, for the tiny guests of these tests. Each method
 * appends one instruction; the comments give the encoding from the Intel SDM.
 */
final class Code32 {
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

    private Code32 emit(int... values) {
        for (int value : values) {
            bytes.write(value);
        }
        return this;
    }

    private Code32 imm32(int value) {
        return emit(value & 0xFF, (value >>> 8) & 0xFF, (value >>> 16) & 0xFF, value >>> 24);
    }

    /** B8+r id: mov r32, imm32 (r = 0 eax, 1 ecx, 2 edx, 3 ebx, 6 esi). */
    Code32 movImm(int register, int value) {
        return emit(0xB8 + register).imm32(value);
    }

    Code32 movEax(int value) {
        return movImm(0, value);
    }

    Code32 movEdx(int value) {
        return movImm(2, value);
    }

    /** E7 ib: out imm8, eax. */
    Code32 outEax(int port) {
        return emit(0xE7, port);
    }

    /** EF: out dx, eax. */
    Code32 outDxEax() {
        return emit(0xEF);
    }

    /** ED: in eax, dx. */
    Code32 inEaxDx() {
        return emit(0xED);
    }

    /** F3 6E: rep outsb (ecx bytes from [esi] to port dx). */
    Code32 repOutsb() {
        return emit(0xF3, 0x6E);
    }

    /** A1 id: mov eax, [moffs32]. */
    Code32 loadEax(int address) {
        return emit(0xA1).imm32(address);
    }

    /** A3 id: mov [moffs32], eax. */
    Code32 storeEax(int address) {
        return emit(0xA3).imm32(address);
    }

    /** C7 05 id id: mov dword [disp32], imm32. */
    Code32 storeImm(int address, int value) {
        return emit(0xC7, 0x05).imm32(address).imm32(value);
    }

    /** 01 D8: add eax, ebx. */
    Code32 addEaxEbx() {
        return emit(0x01, 0xD8);
    }

    /** 8B 04 24: mov eax, [esp] (in a handler: the return address the interrupt pushed). */
    Code32 loadEaxFromStackTop() {
        return emit(0x8B, 0x04, 0x24);
    }

    /** E2 cb: loop back to {@code bytesBack} bytes before the end of this instruction while --ecx != 0. */
    Code32 loop(int bytesBack) {
        return emit(0xE2, -bytesBack & 0xFF);
    }

    Code32 cli() {
        return emit(0xFA);
    }

    Code32 sti() {
        return emit(0xFB);
    }

    Code32 hlt() {
        return emit(0xF4);
    }

    /** FF 05 addr, EB F8: inc dword [address] and jump back to it, forever. */
    Code32 countForever(int address) {
        return emit(0xFF, 0x05, address & 0xFF, address >>> 8 & 0xFF, address >>> 16 & 0xFF, address >>> 24 & 0xFF, 0xEB, 0xF8);
    }

    /** EB FE: jmp to itself. */
    Code32 spin() {
        return emit(0xEB, 0xFE);
    }

    /** 0F 0B: ud2, the undefined-opcode exception. */
    Code32 ud2() {
        return emit(0x0F, 0x0B);
    }

    byte[] bytes() {
        return bytes.toByteArray();
    }
}
