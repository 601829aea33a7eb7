package dev.tributary.flink.config;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** docs/flink-jobs.md's property table lists every key of property-groups.json, with its default. */
class DocsTableTest {
    @Test
    void theDocsListEveryContractKeyWithItsDefault() throws Exception {
        String docs = Files.readString(Path.of("..", "docs", "flink-jobs.md"));
        JsonNode groups = new ObjectMapper().readTree(Path.of("property-groups.json").toFile()).get("propertyGroups");
        for (JsonNode group : groups) {
            for (JsonNode property : group.get("properties")) {
                String row = "| `" + group.get("propertyGroupId").asText() + "` | `" + property.get("key").asText()
                        + "` | ";
                assertThat(docs).as("docs row of %s", row).contains(row);
                if (property.has("default")) {
                    String rowStart = docs.substring(docs.indexOf(row));
                    String line = rowStart.substring(0, rowStart.indexOf('\n'));
                    assertThat(line).contains("`" + property.get("default").asText() + "`");
                }
            }
        }
    }
}
