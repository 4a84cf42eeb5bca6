package io.voicemesh.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigException;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@DisplayName("The layered configuration")
class MeshConfigTest {

  @Test
  @DisplayName("defaults come from reference.conf; a file overrides them; command-line options override the file")
  void layers(@TempDir Path dir) throws Exception {
    assertEquals(8080, MeshConfig.load(null, Map.of()).section("gateway").getInteger("port"));
    File file = dir.resolve("voicemesh.conf").toFile();
    Files.writeString(file.toPath(), """
        voicemesh.gateway.port = 9000
        voicemesh.llm.agents.support { engine = openai, baseUrl = "http://127.0.0.1:1/v1", model = m }
        """);
    MeshConfig fromFile = MeshConfig.load(file, Map.of());
    assertEquals(9000, fromFile.section("gateway").getInteger("port"));
    assertEquals("openai", fromFile.section("llm").getJsonObject("agents").getJsonObject("support").getString("engine"));
    assertEquals("builtin", fromFile.section("llm").getJsonObject("agents").getJsonObject("default").getString("engine"),
        "a file adds to the defaults, it does not replace them");
    assertEquals(9100, MeshConfig.load(file, Map.of("voicemesh.gateway.port", 9100)).section("gateway").getInteger("port"));
  }

  @Test
  @DisplayName("strings where reference.conf has numbers or booleans (environment variables) become numbers and booleans")
  void environmentStringsAreTyped() {
    MeshConfig config = MeshConfig.load(null, Map.of("voicemesh.gateway.port", "9200", "voicemesh.stt.capacity", "2",
        "voicemesh.llm.agents.default.deltaDelayMs", "150"));
    assertEquals(9200, config.section("gateway").getInteger("port"));
    assertEquals(2, config.section("stt").getInteger("capacity"));
    assertEquals(150, config.section("llm").getJsonObject("agents").getJsonObject("default").getInteger("deltaDelayMs"));
    ConfigException wrong = assertThrows(ConfigException.class,
        () -> MeshConfig.load(null, Map.of("voicemesh.stt.capacity", "lots")));
    assertTrue(wrong.getMessage().contains("stt.capacity"), wrong.getMessage());
  }

  @Test
  @DisplayName("a missing configuration file is an error, not silently ignored")
  void missingFile(@TempDir Path dir) {
    assertThrows(IllegalArgumentException.class, () -> MeshConfig.load(dir.resolve("nope.conf").toFile(), Map.of()));
  }
}
