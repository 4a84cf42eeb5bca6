package io.voicemesh.stt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Vosk's results as it writes them (recorded from the bundled model on FreeTTS speech, words trimmed). */
@DisplayName("A Vosk result")
class VoskResultTest {

  @Test
  @DisplayName("with alternatives: the best reading, and the others within the margin of its score")
  void alternatives() {
    VoskResult heard = VoskResult.parse("""
        {"alternatives": [
          {"confidence": 143.790039, "text": "i was thinking arm"},
          {"confidence": 142.675140, "text": "i was think an arm"},
          {"confidence": 142.367096, "text": "i was thinking on"},
          {"confidence": 139.990000, "text": "i was thinking all"}]}""");
    assertEquals("i was thinking arm", heard.best());
    assertEquals(List.of("i was think an arm", "i was thinking on"), heard.others(),
        "a reading scored 3.8 below the best is left out");
  }

  @Test
  @DisplayName("without words: empty, whatever the other readings say; so are null and broken JSON")
  void nothing() {
    assertTrue(VoskResult.parse("""
        {"alternatives": [{"confidence": 20.1, "text": ""}, {"confidence": 19.8, "text": "the"}]}""").empty());
    assertTrue(VoskResult.parse("{\"alternatives\": []}").empty());
    assertTrue(VoskResult.parse("null").empty(), "Vosk's answer when its lattice held no path");
    assertTrue(VoskResult.parse("{\"text\": \"\"}").empty());
    assertTrue(VoskResult.parse("not json").empty());
    assertTrue(VoskResult.parse(null).empty());
  }

  @Test
  @DisplayName("without alternatives (a recognizer not set to give them): its text, no other readings")
  void singleReading() {
    VoskResult heard = VoskResult.parse("{\"text\": \" what time is it \"}");
    assertEquals("what time is it", heard.best());
    assertEquals(List.of(), heard.others());
  }
}
