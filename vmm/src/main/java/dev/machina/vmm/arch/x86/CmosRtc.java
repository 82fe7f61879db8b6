package dev.machina.vmm.arch.x86;

import dev.machina.vmm.devices.ByteRegisters;

import java.time.Clock;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;

/**
 * The MC146818 real-time clock and its CMOS RAM at ports 0x70 (index; bit 7 is the NMI mask) and
 * 0x71 (data), showing the host's wall-clock time in UTC, as Linux expects of a PC's RTC. The
 * guest may set the clock (hwclock -w): it then runs at the host's pace from the time written.
 * Status register B chooses BCD or binary and 12- or 24-hour values, as on the chip; the century
 * is register 0x32, which the FADT names. The update cycle is never in progress when read (the
 * clock is computed, not stepped), and no alarm, periodic or update interrupts are raised.
 */
public final class CmosRtc implements ByteRegisters {
    public static final int INDEX_PORT = 0x70;
    public static final int PORTS = 2;
    /** The CMOS register that holds the century, in the register B format. */
    public static final int CENTURY = 0x32;

    private static final int SECONDS = 0x00;
    private static final int MINUTES = 0x02;
    private static final int HOURS = 0x04;
    private static final int DAY_OF_WEEK = 0x06;
    private static final int DAY_OF_MONTH = 0x07;
    private static final int MONTH = 0x08;
    private static final int YEAR = 0x09;
    private static final int STATUS_A = 0x0A;
    private static final int STATUS_B = 0x0B;
    private static final int STATUS_C = 0x0C;
    private static final int STATUS_D = 0x0D;

    /** 32.768 kHz time base, 1024 Hz periodic rate: what firmware leaves in register A. */
    private static final int STATUS_A_DEFAULT = 0x26;
    private static final int STATUS_A_WRITABLE = 0x7F;
    private static final int B_24_HOUR = 0x02;
    private static final int B_BINARY = 0x04;
    /** SET: the guest is writing the time; the clock holds while it does. */
    private static final int B_SET = 0x80;
    private static final int HOUR_PM = 0x80;
    /** VRT: the battery is good, the RAM valid. */
    private static final int D_VALID = 0x80;
    private static final int INDEX_MASK = 0x7F;

    private final Clock clock;
    private final byte[] ram = new byte[128];
    private int index;
    /** How far the guest's clock is ahead of the host's. */
    private Duration offset = Duration.ZERO;
    /** The time being written while SET is on; it takes effect when SET goes off. */
    private LocalDateTime beingSet;

    public CmosRtc(Clock clock) {
        this.clock = clock;
        ram[STATUS_A] = STATUS_A_DEFAULT;
        ram[STATUS_B] = B_24_HOUR;
        ram[STATUS_D] = (byte) D_VALID;
    }

    @Override
    public synchronized int readByte(int port) {
        if (port == 0) {
            return 0xFF; // the index register is write-only
        }
        return switch (index) {
            case SECONDS, MINUTES, HOURS, DAY_OF_WEEK, DAY_OF_MONTH, MONTH, YEAR, CENTURY -> timeRegister(index, now());
            case STATUS_C -> 0; // no interrupt is ever pending
            default -> ram[index] & 0xFF;
        };
    }

    @Override
    public synchronized void writeByte(int port, int value) {
        if (port == 0) {
            index = value & INDEX_MASK;
            return;
        }
        switch (index) {
            case SECONDS, MINUTES, HOURS, DAY_OF_WEEK, DAY_OF_MONTH, MONTH, YEAR, CENTURY -> setTimeRegister(index, value);
            case STATUS_A -> ram[STATUS_A] = (byte) ((ram[STATUS_A] & ~STATUS_A_WRITABLE) | (value & STATUS_A_WRITABLE));
            case STATUS_B -> writeStatusB(value);
            case STATUS_C, STATUS_D -> { } // read-only
            default -> ram[index] = (byte) value;
        }
    }

    private LocalDateTime now() {
        return beingSet != null ? beingSet : LocalDateTime.ofInstant(clock.instant().plus(offset), ZoneOffset.UTC);
    }

    private void writeStatusB(int value) {
        boolean wasSetting = (ram[STATUS_B] & B_SET) != 0;
        boolean setting = (value & B_SET) != 0;
        if (setting && !wasSetting) {
            beingSet = now();
        } else if (!setting && wasSetting) {
            offset = Duration.between(clock.instant(), beingSet.toInstant(ZoneOffset.UTC));
            beingSet = null;
        }
        ram[STATUS_B] = (byte) value;
    }

    private int timeRegister(int register, LocalDateTime time) {
        if (register == HOURS && !is24Hour()) {
            int hour = time.getHour() % 12 == 0 ? 12 : time.getHour() % 12;
            return encode(hour) | (time.getHour() >= 12 ? HOUR_PM : 0);
        }
        return encode(switch (register) {
            case SECONDS -> time.getSecond();
            case MINUTES -> time.getMinute();
            case HOURS -> time.getHour();
            case DAY_OF_WEEK -> time.getDayOfWeek().getValue() % 7 + 1; // Sunday is 1
            case DAY_OF_MONTH -> time.getDayOfMonth();
            case MONTH -> time.getMonthValue();
            case YEAR -> time.getYear() % 100;
            case CENTURY -> time.getYear() / 100;
            default -> throw new IllegalArgumentException("not a time register: " + register);
        });
    }

    /**
     * Writes one field of the time. Outside a SET sequence a single field changes and the clock
     * keeps running from there, as the chip does; an out-of-range value is ignored rather than
     * stopping the clock.
     */
    private void setTimeRegister(int register, int value) {
        boolean holding = beingSet != null;
        LocalDateTime time = now();
        try {
            time = switch (register) {
                case SECONDS -> time.withSecond(decode(value));
                case MINUTES -> time.withMinute(decode(value));
                case HOURS -> time.withHour(is24Hour() ? decode(value)
                        : decode(value & ~HOUR_PM) % 12 + ((value & HOUR_PM) != 0 ? 12 : 0));
                case DAY_OF_WEEK -> time; // derived from the date
                case DAY_OF_MONTH -> time.withDayOfMonth(decode(value));
                case MONTH -> time.withMonth(decode(value));
                case YEAR -> time.withYear(time.getYear() / 100 * 100 + decode(value));
                case CENTURY -> time.withYear(decode(value) * 100 + time.getYear() % 100);
                default -> throw new IllegalArgumentException("not a time register: " + register);
            };
        } catch (DateTimeException e) {
            return;
        }
        if (holding) {
            beingSet = time;
        } else {
            Instant written = time.toInstant(ZoneOffset.UTC);
            offset = Duration.between(clock.instant(), written);
        }
    }

    private boolean is24Hour() {
        return (ram[STATUS_B] & B_24_HOUR) != 0;
    }

    private int encode(int value) {
        return (ram[STATUS_B] & B_BINARY) != 0 ? value : (value / 10) << 4 | value % 10;
    }

    private int decode(int value) {
        return (ram[STATUS_B] & B_BINARY) != 0 ? value : (value >> 4) * 10 + (value & 0xF);
    }
}
