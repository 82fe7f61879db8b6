package dev.machina.hypervisor.spi;

import dev.machina.hypervisor.VcpuExit;
import dev.machina.hypervisor.x86.X86State;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/** How a vCPU's thread ends when what it runs throws. */
class AbstractVcpuTest {
    /** A vCPU whose run throws {@code failure}, unchecked. */
    private static AbstractVcpu throwing(Throwable failure) {
        return new AbstractVcpu("test", 0) {
            @Override
            protected VcpuExit run() {
                if (failure instanceof RuntimeException runtime) {
                    throw runtime;
                }
                throw (Error) failure;
            }

            @Override
            protected void kick() {
            }

            @Override
            public void interrupt(int vector) {
                throw new UnsupportedOperationException();
            }

            @Override
            protected X86State readStateNow() {
                throw new UnsupportedOperationException();
            }

            @Override
            protected void writeStateNow(X86State state) {
                throw new UnsupportedOperationException();
            }

            @Override
            protected long readMsrNow(int index) {
                throw new UnsupportedOperationException();
            }

            @Override
            protected void writeMsrNow(int index, long value) {
                throw new UnsupportedOperationException();
            }
        };
    }

    private static String failure(AbstractVcpu vcpu) throws InterruptedException {
        vcpu.start();
        VcpuExit exit = vcpu.awaitExit(Duration.ofSeconds(30)).orElseThrow();
        assertThat(exit).isInstanceOf(VcpuExit.Failed.class);
        return ((VcpuExit.Failed) exit).reason();
    }

    @Test
    void runningOutOfHeapIsSaidInWordsWithTheLimit() throws InterruptedException {
        String reason = failure(throwing(new OutOfMemoryError("Java heap space")));
        assertThat(reason).startsWith("vCPU 0 ran out of the VMM's Java heap (").contains(" MiB, the JVM's -Xmx)")
                .doesNotContain("java.lang");
    }

    @Test
    void aBugNamesItsException() throws InterruptedException {
        String reason = failure(throwing(new IllegalStateException("broken")));
        assertThat(reason).isEqualTo("vCPU 0: java.lang.IllegalStateException: broken");
    }
}
