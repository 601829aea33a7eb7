package dev.tributary.flink.views;

import static dev.tributary.flink.views.Column.of;
import static dev.tributary.flink.views.ColumnType.ARRAY_OF_STRING;
import static dev.tributary.flink.views.ColumnType.BIGINT;
import static dev.tributary.flink.views.ColumnType.DECIMAL_12_2;
import static dev.tributary.flink.views.ColumnType.DECIMAL_18_2;
import static dev.tributary.flink.views.ColumnType.STRING;

import dev.tributary.flink.views.Rows.Alert;
import dev.tributary.flink.views.Rows.CardMinuteSpend;
import dev.tributary.flink.views.Rows.CardVelocity;
import dev.tributary.flink.views.Rows.CustomerHourSpend;
import dev.tributary.flink.views.Rows.CustomerSession;
import dev.tributary.flink.views.Rows.DeadLetter;
import dev.tributary.flink.views.Rows.EnrichedTransaction;
import dev.tributary.flink.views.Rows.LateEvent;
import java.util.List;

/**
 * Every view the job writes. The columns mirror schemas/views.json (ViewSchemaTest reads the
 * Parquet the job produced and compares it with that file); {@link #DEAD_LETTER} is the job's own
 * extra output for rejected records and is not a serving view.
 */
public final class Views {
    private Views() {}

    public static final ViewDefinition<CardMinuteSpend> SPEND_PER_CARD_MINUTE = new ViewDefinition<>(
            "spend_per_card_minute",
            List.of(of("card_id", STRING), of("window_start", BIGINT), of("txn_count", BIGINT),
                    of("total_amount", DECIMAL_18_2)),
            CardMinuteSpend.class);

    public static final ViewDefinition<CustomerHourSpend> SPEND_PER_CUSTOMER_HOUR = new ViewDefinition<>(
            "spend_per_customer_hour",
            List.of(of("customer_id", STRING), of("window_start", BIGINT), of("txn_count", BIGINT),
                    of("total_amount", DECIMAL_18_2)),
            CustomerHourSpend.class);

    public static final ViewDefinition<CardVelocity> CARD_VELOCITY = new ViewDefinition<>(
            "card_velocity",
            List.of(of("card_id", STRING), of("window_start", BIGINT), of("window_end", BIGINT),
                    of("txn_count", BIGINT), of("total_amount", DECIMAL_18_2)),
            CardVelocity.class);

    public static final ViewDefinition<CustomerSession> CUSTOMER_SESSIONS = new ViewDefinition<>(
            "customer_sessions",
            List.of(of("customer_id", STRING), of("session_start", BIGINT), of("session_end", BIGINT),
                    of("txn_count", BIGINT), of("total_amount", DECIMAL_18_2)),
            CustomerSession.class);

    public static final ViewDefinition<EnrichedTransaction> ENRICHED_TRANSACTIONS = new ViewDefinition<>(
            "enriched_transactions",
            List.of(of("txn_id", STRING), of("card_id", STRING), of("customer_id", STRING),
                    of("merchant_id", STRING), of("amount", DECIMAL_12_2), of("currency", STRING),
                    of("country", STRING), of("channel", STRING), of("event_time", BIGINT),
                    of("segment", STRING), of("home_country", STRING), of("risk_tier", STRING)),
            EnrichedTransaction.class);

    public static final ViewDefinition<Alert> ALERTS = new ViewDefinition<>(
            "alerts",
            List.of(of("alert_id", STRING), of("rule", STRING), of("card_id", STRING), of("customer_id", STRING),
                    of("window_start", BIGINT), of("txn_ids", ARRAY_OF_STRING), of("detected_by", STRING),
                    of("detected_at", BIGINT)),
            Alert.class);

    public static final ViewDefinition<LateEvent> LATE_EVENTS = new ViewDefinition<>(
            "late_events",
            List.of(of("txn_id", STRING), of("card_id", STRING), of("customer_id", STRING),
                    of("amount", DECIMAL_12_2), of("country", STRING), of("event_time", BIGINT),
                    of("watermark", BIGINT), of("raw", STRING)),
            LateEvent.class);

    public static final ViewDefinition<DeadLetter> DEAD_LETTER = new ViewDefinition<>(
            "dead_letter",
            List.of(of("raw", STRING), of("reason", STRING), of("received_at", BIGINT)),
            DeadLetter.class);

    /** The views declared in schemas/views.json, in that file's order. */
    public static final List<ViewDefinition<?>> SERVING_VIEWS = List.of(
            SPEND_PER_CARD_MINUTE, SPEND_PER_CUSTOMER_HOUR, CARD_VELOCITY, CUSTOMER_SESSIONS,
            ENRICHED_TRANSACTIONS, ALERTS, LATE_EVENTS);
}
