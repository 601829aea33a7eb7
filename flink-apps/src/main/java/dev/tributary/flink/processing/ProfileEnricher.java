package dev.tributary.flink.processing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tributary.flink.model.CardProfile;
import dev.tributary.flink.model.Transaction;
import dev.tributary.flink.views.Rows.EnrichedTransaction;
import java.io.BufferedReader;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.core.fs.FSDataInputStream;
import org.apache.flink.core.fs.FileStatus;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.core.fs.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stream-table join: each transaction gets its card's profile from the reference table (a file, or
 * a folder of files), which every subtask loads whole when it starts (through Flink's file systems, so {@code s3://} works on
 * Managed Flink). The table is small next to the stream; a restart reloads it. A card missing from
 * the table keeps null profile columns rather than being dropped.
 */
public class ProfileEnricher extends RichMapFunction<Transaction, EnrichedTransaction> {
    private static final Logger LOG = LoggerFactory.getLogger(ProfileEnricher.class);

    /** Columns of the table, as the CSV header or the NDJSON keys. */
    public static final List<String> TABLE_COLUMNS = List.of("card_id", "segment", "home_country", "risk_tier");

    private final String tablePath;
    private transient Map<String, CardProfile> profilesByCard;

    public ProfileEnricher(String tablePath) {
        this.tablePath = tablePath;
    }

    @Override
    public void open(OpenContext openContext) throws IOException {
        profilesByCard = loadTable(tablePath);
    }

    @Override
    public EnrichedTransaction map(Transaction t) {
        CardProfile profile = profilesByCard.get(t.cardId);
        return new EnrichedTransaction(t.txnId, t.cardId, t.customerId, t.merchantId, t.amountCents(), t.currency,
                t.country, t.channel, t.eventTime,
                profile == null ? null : profile.segment(),
                profile == null ? null : profile.homeCountry(),
                profile == null ? null : profile.riskTier());
    }

    /**
     * Reads the table from a file, or from every visible file of a folder (a prefix on S3), each
     * NDJSON (first line starts with '{') or CSV with a header of {@link #TABLE_COLUMNS}.
     */
    public static Map<String, CardProfile> loadTable(String path) throws IOException {
        Path root = new Path(path);
        FileSystem fileSystem = root.getFileSystem();
        FileStatus status;
        try {
            status = fileSystem.getFileStatus(root);
        } catch (FileNotFoundException e) {
            if (path.endsWith("/")) {
                // A folder that has no files yet (a fresh deployment): the job runs, profiles stay null
                // until files arrive and the job restarts, instead of the job refusing to start.
                LOG.warn("The card profile folder Job/profiles.path = '{}' has no files yet: enriched_transactions "
                        + "gets null profile columns until profiles are loaded and the job restarts", path);
                return new HashMap<>();
            }
            throw new FileNotFoundException("The card profile table Job/profiles.path = '" + path + "' does not exist");
        }
        List<Path> files = new ArrayList<>();
        if (status.isDir()) {
            for (FileStatus child : fileSystem.listStatus(root)) {
                String name = child.getPath().getName();
                if (!child.isDir() && !name.startsWith(".") && !name.startsWith("_")) {
                    files.add(child.getPath());
                }
            }
            files.sort(Comparator.comparing(Path::toString));
        } else {
            files.add(root);
        }
        Map<String, CardProfile> profiles = new HashMap<>();
        for (Path file : files) {
            readFile(fileSystem, file, profiles);
        }
        return profiles;
    }

    private static void readFile(FileSystem fileSystem, Path file, Map<String, CardProfile> profiles)
            throws IOException {
        String path = file.toString();
        try (FSDataInputStream in = fileSystem.open(file);
             BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            String first = reader.readLine();
            if (first == null) {
                return;
            }
            boolean ndjson = first.trim().startsWith("{");
            if (ndjson) {
                addJson(profiles, first, path);
            } else if (!List.of(first.trim().split(",")).equals(TABLE_COLUMNS)) {
                throw new IOException(path + ": the CSV header must be " + String.join(",", TABLE_COLUMNS));
            }
            for (String line = reader.readLine(); line != null; line = reader.readLine()) {
                if (line.isBlank()) continue;
                if (ndjson) {
                    addJson(profiles, line, path);
                } else {
                    addCsv(profiles, line, path);
                }
            }
        }
    }

    private static final ObjectMapper MAPPER = new ObjectMapper();

    private static void addJson(Map<String, CardProfile> profiles, String line, String path) throws IOException {
        JsonNode node = MAPPER.readTree(line);
        JsonNode cardId = node.get("card_id");
        if (cardId == null || !cardId.isTextual()) {
            throw new IOException(path + ": every profile needs a string card_id, found " + line);
        }
        profiles.put(cardId.textValue(), new CardProfile(cardId.textValue(), text(node, "segment"),
                text(node, "home_country"), text(node, "risk_tier")));
    }

    private static String text(JsonNode node, String field) {
        JsonNode value = node.get(field);
        return value == null || value.isNull() ? null : value.asText();
    }

    private static void addCsv(Map<String, CardProfile> profiles, String line, String path) throws IOException {
        String[] cells = line.split(",", -1);
        if (cells.length != TABLE_COLUMNS.size() || cells[0].isBlank()) {
            throw new IOException(path + ": expected " + TABLE_COLUMNS.size() + " cells with a card_id, found " + line);
        }
        profiles.put(cells[0], new CardProfile(cells[0], emptyToNull(cells[1]), emptyToNull(cells[2]),
                emptyToNull(cells[3])));
    }

    private static String emptyToNull(String cell) {
        return cell.isBlank() ? null : cell.trim();
    }
}
