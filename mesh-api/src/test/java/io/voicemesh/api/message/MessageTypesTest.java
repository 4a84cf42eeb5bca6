package io.voicemesh.api.message;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.voicemesh.api.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("The message types prepared before a node serves")
class MessageTypesTest {
  @Test
  @DisplayName("MessageTypes.ALL lists every top-level class of the message package, and each one's mapping can be built")
  void everyMessageTypeIsListed() throws Exception {
    Path compiled = Path.of(MessageTypes.class.getProtectionDomain().getCodeSource().getLocation().toURI())
        .resolve(MessageTypes.class.getPackageName().replace('.', '/'));
    Set<String> inPackage;
    try (Stream<Path> files = Files.list(compiled)) {
      inPackage = files.map(f -> f.getFileName().toString())
          .filter(name -> name.endsWith(".class") && !name.contains("$") && !name.equals("package-info.class"))
          .map(name -> name.substring(0, name.length() - ".class".length()))
          .filter(name -> !name.equals(MessageTypes.class.getSimpleName()))
          .collect(Collectors.toCollection(TreeSet::new));
    }
    assertEquals(inPackage, MessageTypes.ALL.stream().map(Class::getSimpleName).collect(Collectors.toCollection(TreeSet::new)));
    int prepared = Json.prepare(MessageTypes.ALL);
    assertTrue(prepared > MessageTypes.ALL.size(), "nested types (LlmEvent's events) are prepared too: " + prepared);
  }
}
