package io.voicemesh.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("What was heard of an answer")
class HeardTextTest {
  private final HeardText heard = new HeardText();

  @Test
  @DisplayName("ends at the last word whose audio was sent, by the engine's word timings")
  void toTheWord() {
    heard.sentence("Once upon a time.");
    heard.sentence("The sailor watched.");
    heard.timed(0, 1_000, List.of(300L, 500L, 600L, 900L));
    assertEquals("", heard.heard(299));
    assertEquals("Once", heard.heard(300));
    assertEquals("Once upon", heard.heard(550));
    assertEquals("Once upon a time.", heard.heard(950));
    heard.sentencePlayed(1_000);
    heard.timed(1, 1_200, List.of(200L, 700L, 1_100L));
    assertEquals("Once upon a time.", heard.heard(1_100), "the next sentence starts where the first ended");
    assertEquals("Once upon a time. The sailor", heard.heard(1_750));
    heard.sentencePlayed(2_200);
    assertEquals("Once upon a time. The sailor watched.", heard.heard(2_200));
  }

  @Test
  @DisplayName("follows the client's playback marks when it sends them, and marks only move forward")
  void byMarks() {
    heard.sentence("Once upon a time.");
    heard.timed(0, 1_000, List.of(300L, 500L, 600L, 900L));
    heard.sentencePlayed(1_000);
    heard.playbackMark(650);
    heard.playbackMark(400);
    assertEquals("Once upon a", heard.heard(1_000), "played less than was sent");
    heard.playbackMark(5_000);
    assertEquals("Once upon a time.", heard.heard(1_000), "never more than was sent");
  }

  @Test
  @DisplayName("spreads the words over the audio by length when the engine gives no (or wrong) timings")
  void proportional() {
    heard.sentence("aaaa bbbb cccc dddd");
    heard.timed(0, 1_900, List.of());
    assertEquals("aaaa bbbb", heard.textAt(1_000));
    heard.sentence("ee ff");
    heard.sentencePlayed(1_900);
    heard.timed(1, 500, List.of(10L));
    assertEquals("aaaa bbbb cccc dddd ee", heard.textAt(1_900 + 200));
  }

  @Test
  @DisplayName("counts nothing of a sentence whose timing is not known yet")
  void untimed() {
    heard.sentence("One two three.");
    assertEquals("", heard.textAt(10_000));
  }
}
