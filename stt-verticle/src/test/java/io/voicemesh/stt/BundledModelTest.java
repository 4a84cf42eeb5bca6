package io.voicemesh.stt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@DisplayName("The bundled Vosk model's decoding options")
class BundledModelTest {

  @Test
  @DisplayName("are the shipped ones with the lattice beam widened to 3.0, whatever beam they had")
  void latticeWidened(@TempDir Path dir) throws IOException {
    Path conf = dir.resolve("model.conf");
    try (InputStream shipped = getClass().getClassLoader()
        .getResourceAsStream(VoskEngineProvider.BUNDLED_MODEL + "/conf/model.conf")) {
      Files.copy(shipped, conf);
    }
    List<String> before = Files.readAllLines(conf);
    assertTrue(before.contains("--lattice-beam=2.0"), "the model ships a 2.0 beam: " + before);

    VoskEngineProvider.widenLattice(conf);
    VoskEngineProvider.widenLattice(conf);

    List<String> after = Files.readAllLines(conf);
    assertEquals(List.of(VoskEngineProvider.LATTICE_BEAM), after.stream().filter(o -> o.startsWith("--lattice-beam")).toList());
    assertEquals(before.size(), after.size(), "one option replaced, none lost: " + after);
    assertTrue(after.containsAll(before.stream().filter(o -> !o.startsWith("--lattice-beam")).toList()));
  }
}
