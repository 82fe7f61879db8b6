package dev.machina.vmm.devices;

/** A console that takes what the user types: the serial port's UART, the virtio console. */
@FunctionalInterface
public interface ConsoleInput {
    /** Hands the guest byte {@code value} (0-255), waiting while the device's buffer is full. */
    void receive(int value) throws InterruptedException;
}
