package io.voicemesh.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("The sentence chunker")
class SentenceChunkerTest {

  private static List<String> chunk(String... deltas) {
    SentenceChunker chunker = new SentenceChunker();
    List<String> out = new ArrayList<>();
    for (String delta : deltas) {
      out.addAll(chunker.push(delta));
    }
    String rest = chunker.flush();
    if (!rest.isEmpty()) {
      out.add(rest);
    }
    return out;
  }

  @Test
  @DisplayName("emits each sentence as soon as the next one begins, whatever the delta boundaries")
  void sentencesAcrossDeltas() {
    SentenceChunker chunker = new SentenceChunker();
    assertEquals(List.of(), chunker.push("Hello"));
    assertEquals(List.of(), chunker.push(" there."));
    assertEquals(List.of("Hello there."), chunker.push(" How"));
    assertEquals(List.of("How are you?"), chunker.push(" are you? I"));
    assertEquals("I am fine!", chunker.push(" am fine!").isEmpty() ? chunker.flush() : "");
  }

  @Test
  @DisplayName("does not split at abbreviations, initials, decimals or times")
  void noFalseBreaks() {
    assertEquals(List.of("Dr. Smith met J. R. Tolkien at 6:05 p.m. on the 3.5 mile trail.", "Then they left."),
        chunk("Dr. Smith met J. R. Tolkien at 6:05 p.m. on the 3.5 mile trail. ", "Then they left."));
  }

  @Test
  @DisplayName("keeps closing quotes with their sentence and splits at line breaks")
  void quotesAndLines() {
    assertEquals(List.of("He said \"stop.\"", "Then: silence", "Done."),
        chunk("He said \"stop.\" Then: silence\nDone."));
  }

  @Test
  @DisplayName("cuts text that never ends a sentence at a comma or space before it grows too long")
  void runOn() {
    String words = "word, ".repeat(100);
    List<String> out = chunk(words);
    assertTrue(out.size() > 1, "cut into " + out.size());
    out.forEach(s -> assertTrue(s.length() <= SentenceChunker.MAX_CHARS, s.length() + ": " + s));
    assertEquals(words.replace(" ", ""), String.join("", out).replace(" ", ""));
  }

  @Test
  @DisplayName("blank input yields nothing")
  void blank() {
    assertEquals(List.of(), chunk("", "  ", "\n"));
  }
}
