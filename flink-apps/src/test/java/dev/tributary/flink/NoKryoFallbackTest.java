package dev.tributary.flink;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tributary.flink.model.ParsedRecord;
import dev.tributary.flink.model.Transaction;
import dev.tributary.flink.testing.JobHarness;
import java.util.List;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.java.typeutils.GenericTypeInfo;
import org.apache.flink.api.java.typeutils.PojoTypeInfo;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.junit.jupiter.api.Test;

/**
 * Every MiniCluster test runs the job with generic types disabled (JobHarness): a type that would fall back
 * to Kryo fails the job instead of silently costing throughput and schema evolution. This test shows the
 * setting bites (a control), and that the job's own records are POJOs.
 */
class NoKryoFallbackTest {
    /** Not a POJO: no public no-argument constructor, so Flink would serialize it with Kryo. */
    static final class Opaque {
        final List<String> parts;

        Opaque(List<String> parts) {
            this.parts = parts;
        }
    }

    @Test
    void aTypeThatFallsBackToKryoFailsTheHarnessJob() {
        StreamExecutionEnvironment env = JobHarness.environment(500);
        assertThat(TypeInformation.of(Opaque.class)).isInstanceOf(GenericTypeInfo.class);
        assertThatThrownBy(() -> {
            env.fromData(1, 2, 3).map(i -> new Opaque(List.of(String.valueOf(i)))).returns(Opaque.class).print();
            env.execute("kryo control");
        }).hasStackTraceContaining("Generic types have been disabled");
    }

    @Test
    void theRecordsOnTheWireArePojos() {
        assertThat(TypeInformation.of(Transaction.class)).isInstanceOf(PojoTypeInfo.class);
        assertThat(TypeInformation.of(ParsedRecord.class)).isInstanceOf(PojoTypeInfo.class);
    }
}
