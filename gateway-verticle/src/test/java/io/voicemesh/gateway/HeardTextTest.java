package io.voicemesh.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("What was heard of an answer")
class HeardTextTest {
  @Test
  @DisplayName("is the sentences wholly sent, or wholly played when the client sends marks")
  void wholeSentences() {
    HeardText heard = new HeardText();
    heard.sentence("One two.");
    heard.sentence("Three four.");
    assertEquals("", heard.heard(900));
    heard.sentencePlayed(1_000);
    assertEquals("One two.", heard.heard(1_500));
    heard.playbackMark(800);
    assertEquals("", heard.heard(1_500), "the client played less than was sent");
    heard.playbackMark(1_200);
    heard.playbackMark(1_100);
    assertEquals("One two.", heard.heard(1_500), "marks only move forward");
    heard.sentencePlayed(2_000);
    assertEquals("One two.", heard.heard(2_000), "the client has not played the second sentence yet");
  }
}
