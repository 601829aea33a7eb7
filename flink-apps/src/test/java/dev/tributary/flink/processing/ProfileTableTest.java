package dev.tributary.flink.processing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tributary.flink.model.CardProfile;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The card profile table: a CSV or NDJSON file, or a folder (S3 prefix) of them. */
class ProfileTableTest {
    @TempDir
    Path dir;

    @Test
    void aFolderIsReadFileByFileInEitherFormatSkippingHiddenFiles() throws Exception {
        Files.write(dir.resolve("a.csv"), List.of("card_id,segment,home_country,risk_tier", "card-1,retail,FR,low",
                "card-2,,DE,"));
        Files.write(dir.resolve("b.ndjson"), List.of(
                "{\"card_id\":\"card-3\",\"segment\":\"premium\",\"home_country\":\"GB\",\"risk_tier\":\"high\"}"));
        Files.write(dir.resolve("_SUCCESS"), List.of("not a table"));

        Map<String, CardProfile> table = ProfileEnricher.loadTable(dir.toUri() + "/");

        assertThat(table).containsOnlyKeys("card-1", "card-2", "card-3");
        assertThat(table.get("card-2")).isEqualTo(new CardProfile("card-2", null, "DE", null));
        assertThat(table.get("card-3").riskTier()).isEqualTo("high");
    }

    @Test
    void aCsvWithAnotherHeaderIsRejected() throws Exception {
        Path file = dir.resolve("profiles.csv");
        Files.write(file, List.of("card,segment", "card-1,retail"));

        assertThatThrownBy(() -> ProfileEnricher.loadTable(file.toUri().toString())).isInstanceOf(IOException.class)
                .hasMessageContaining("the CSV header must be card_id,segment,home_country,risk_tier");
    }

    @Test
    void aFolderWithNoFilesYetIsAnEmptyTableSoAFreshDeploymentStarts() throws Exception {
        assertThat(ProfileEnricher.loadTable(dir.resolve("not-loaded-yet").toUri() + "/")).isEmpty();
    }

    @Test
    void aMissingTableNamesTheProperty() {
        assertThatThrownBy(() -> ProfileEnricher.loadTable(dir.resolve("missing").toUri().toString()))
                .isInstanceOf(FileNotFoundException.class).hasMessageContaining("Job/profiles.path");
    }
}
