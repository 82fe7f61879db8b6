package dev.machina.cpu.translate;

import dev.machina.cpu.decode.Instruction;
import dev.machina.cpu.translate.RegionPlan.Block;
import dev.machina.cpu.translate.RegionPlan.Branch;
import dev.machina.cpu.translate.RegionPlan.End;
import dev.machina.cpu.translate.RegionPlan.External;
import dev.machina.cpu.translate.RegionPlan.FallThrough;
import dev.machina.cpu.translate.RegionPlan.Internal;
import dev.machina.cpu.translate.RegionPlan.Jump;
import dev.machina.cpu.translate.RegionPlan.Leave;
import dev.machina.cpu.translate.RegionPlan.StopBefore;
import dev.machina.cpu.translate.RegionPlan.Target;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.IntFunction;

/**
 * Finds a region: the instructions of one page reachable from an entry point through direct
 * jumps and conditional branches that stay in the page, cut into basic blocks. Calls, returns and
 * indirect jumps leave the region, and so do the instructions that end a block; it also ends
 * before one that crosses the page or does not decode, and where it is full.
 */
final class RegionScanner {
    static final int PAGE_SIZE = 4096;

    private RegionScanner() {
    }

    /**
     * The region entered at {@code entry}, of at most {@code limit} instructions, decoding through
     * {@code decodeAt} (null where no instruction lies wholly in the page); null if the first
     * instruction is not one the translator takes in.
     */
    static RegionPlan scan(int entry, int limit, IntFunction<Instruction> decodeAt) {
        TreeMap<Integer, Instruction> found = new TreeMap<>();
        TreeSet<Integer> leaders = new TreeSet<>();
        leaders.add(entry);
        Deque<Integer> work = new ArrayDeque<>();
        work.push(entry);
        while (!work.isEmpty()) {
            int position = work.pop();
            while (position < PAGE_SIZE && found.size() < limit) {
                if (found.containsKey(position)) {
                    leaders.add(position);
                    break;
                }
                Instruction instruction = decodeAt.apply(position);
                if (instruction == null || !InstructionWriter.translates(instruction)) {
                    break;
                }
                found.put(position, instruction);
                int next = position + instruction.length();
                ControlFlow flow = ControlFlow.of(instruction);
                if (flow == ControlFlow.ONWARD) {
                    position = next;
                    continue;
                }
                if (flow != ControlFlow.LEAVES) {
                    long target = next + instruction.immediate();
                    if (target >= 0 && target < PAGE_SIZE) {
                        leaders.add((int) target);
                        work.push((int) target);
                    }
                }
                if (flow != ControlFlow.BRANCHES) {
                    break;
                }
                leaders.add(next);
                position = next;
            }
        }
        if (!found.containsKey(entry)) {
            return null;
        }
        List<Block> blocks = new ArrayList<>();
        for (int leader : leaders) {
            if (found.containsKey(leader)) {
                blocks.add(block(leader, found, leaders));
            }
        }
        return new RegionPlan(entry, blocks);
    }

    private static Block block(int start, TreeMap<Integer, Instruction> found, TreeSet<Integer> leaders) {
        List<Instruction> instructions = new ArrayList<>();
        int position = start;
        while (true) {
            Instruction instruction = found.get(position);
            instructions.add(instruction);
            int next = position + instruction.length();
            End end = switch (ControlFlow.of(instruction)) {
                case LEAVES -> new Leave();
                case JUMPS -> new Jump(target(next + instruction.immediate(), found));
                case BRANCHES -> new Branch(target(next + instruction.immediate(), found), target(next, found));
                case ONWARD -> leaders.contains(next) && found.containsKey(next) ? new FallThrough(next)
                        : found.containsKey(next) ? null : new StopBefore(next);
            };
            if (end != null) {
                return new Block(start, instructions, end);
            }
            position = next;
        }
    }

    private static Target target(long offset, TreeMap<Integer, Instruction> found) {
        return offset >= 0 && offset < PAGE_SIZE && found.containsKey((int) offset) ? new Internal((int) offset) : new External(offset);
    }

    /** What an instruction does to the flow of a region. */
    enum ControlFlow {
        /** Execution goes on to the next instruction (or, for what the core itself runs, wherever RIP then is). */
        ONWARD,
        /** A direct jump. */
        JUMPS,
        /** A direct conditional branch: the target or the next instruction. */
        BRANCHES,
        /** Control leaves the region after it. */
        LEAVES;

        static ControlFlow of(Instruction instruction) {
            return switch (instruction.translation()) {
                case JMP -> JUMPS;
                case JCC, LOOP, LOOPE, LOOPNE, JRCXZ -> BRANCHES;
                case CALL, CALL_INDIRECT, JMP_INDIRECT, RET -> LEAVES;
                default -> instruction.endsBlock() ? LEAVES : ONWARD;
            };
        }
    }
}
