package io.voicemesh.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.voicemesh.api.message.SttEvent;
import io.voicemesh.api.message.SttOpened;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("The hot standby of an STT stream: what it tells the client when it takes over")
class SttStandbyTest {
  private static final SttOpened STREAM = new SttOpened("stt.node.stt-2.streams", "s-2", "stt-2");

  private static SttStandby standby() {
    return new SttStandby(STREAM, 1_000);
  }

  @Test
  @DisplayName("level with the serving stream: only the newest partial beyond the last report is news")
  void level() {
    SttStandby standby = standby();
    standby.heard(new SttEvent.SpeechStarted(1_300));
    standby.heard(new SttEvent.TranscriptPartial("calculate", 1_500));
    standby.heard(new SttEvent.TranscriptPartial("calculate eight", 1_740));
    standby.heard(new SttEvent.TranscriptPartial("calculate eight times", 1_980));
    // The serving stream had reported up to the second partial when it died.
    assertEquals(List.of(new SttEvent.TranscriptPartial("calculate eight times", 1_980)), standby.news(1_740));
    assertEquals(0, standby.behind());
  }

  @Test
  @DisplayName("nothing newer than the last report: nothing is news, not even the speech start")
  void nothingNew() {
    SttStandby standby = standby();
    standby.heard(new SttEvent.SpeechStarted(1_300));
    standby.heard(new SttEvent.TranscriptPartial("calculate", 1_500));
    assertEquals(List.of(), standby.news(1_500));
  }

  @Test
  @DisplayName("ahead of the serving stream: the final it heard first is news, and so is the next utterance's start")
  void ahead() {
    SttStandby standby = standby();
    standby.heard(new SttEvent.SpeechStarted(1_300));
    standby.heard(new SttEvent.TranscriptPartial("hello", 1_500));
    standby.heard(new SttEvent.SpeechStopped(1_900));
    standby.heard(new SttEvent.TranscriptFinal("hello there", 2_300, 1_900));
    standby.heard(new SttEvent.Checkpoint(2_900));
    standby.heard(new SttEvent.SpeechStarted(3_100));
    standby.heard(new SttEvent.TranscriptPartial("what", 3_300));
    assertEquals(List.of(new SttEvent.SpeechStopped(1_900), new SttEvent.TranscriptFinal("hello there", 2_300, 1_900),
        new SttEvent.SpeechStarted(3_100), new SttEvent.TranscriptPartial("what", 3_300)), standby.news(1_500));
  }

  @Test
  @DisplayName("an utterance the serving stream ended is not news, whichever heard its end first")
  void servingEndedFirstOrSecond() {
    SttStandby heardItFirst = standby();
    heardItFirst.heard(new SttEvent.TranscriptPartial("hello", 1_500));
    heardItFirst.heard(new SttEvent.TranscriptFinal("hello there", 2_300, 1_900));
    heardItFirst.servingFinal(2_300);
    heardItFirst.heard(new SttEvent.TranscriptPartial("what", 3_300));
    assertEquals(List.of(new SttEvent.TranscriptPartial("what", 3_300)), heardItFirst.news(2_300));
    assertEquals(0, heardItFirst.behind());

    SttStandby lagging = standby();
    lagging.heard(new SttEvent.TranscriptPartial("hello", 1_500));
    lagging.servingFinal(2_300); // the serving stream ended it; the standby has not got that far
    lagging.heard(new SttEvent.TranscriptPartial("hello there", 1_740));
    assertEquals(List.of(), lagging.news(2_300), "its events of that utterance are not news");
    assertEquals(1, lagging.behind(), "and its final of it must be skipped after it takes over");
    lagging.heard(new SttEvent.TranscriptFinal("hello there", 2_300, 1_900));
    assertEquals(0, lagging.behind());
    lagging.heard(new SttEvent.TranscriptPartial("what", 3_300));
    assertEquals(List.of(new SttEvent.TranscriptPartial("what", 3_300)), lagging.news(2_300));
  }

  @Test
  @DisplayName("an utterance the serving stream never reported is news whole, its speech start included")
  void laterUtterance() {
    SttStandby standby = standby();
    standby.heard(new SttEvent.TranscriptFinal("hello there", 2_300, 1_900));
    standby.heard(new SttEvent.SpeechStarted(2_500));
    standby.heard(new SttEvent.TranscriptPartial("what", 2_700));
    // The serving stream reported partials up to 2_800 of the first utterance, never its end.
    assertEquals(List.of(new SttEvent.TranscriptFinal("hello there", 2_300, 1_900), new SttEvent.SpeechStarted(2_500),
        new SttEvent.TranscriptPartial("what", 2_700)), standby.news(2_800));
  }

  @Test
  @DisplayName("finals that end the same utterance at different places: the standby has drifted")
  void drift() {
    SttStandby aligned = standby();
    aligned.heard(new SttEvent.TranscriptFinal("hello there", 2_300, 1_900));
    aligned.servingFinal(2_300 + SttStandby.FINALS_APART_MS);
    aligned.servingFinal(4_000);
    aligned.heard(new SttEvent.TranscriptFinal("what time is it", 4_020, 3_700));
    assertFalse(aligned.misaligned());

    SttStandby drifted = standby();
    drifted.servingFinal(2_300); // the serving stream split off a short first utterance the standby did not
    drifted.heard(new SttEvent.TranscriptFinal("hello there what time is it", 4_020, 3_700));
    assertTrue(drifted.misaligned());
  }

  @Test
  @DisplayName("holds a bounded number of events, dropping partials before finals")
  void bounded() {
    SttStandby standby = standby();
    standby.heard(new SttEvent.TranscriptFinal("hello there", 999, 900));
    for (int i = 0; i < SttStandby.MAX_HELD * 3; i++) {
      standby.heard(new SttEvent.TranscriptPartial("word " + i, 1_000 + i));
    }
    assertEquals(SttStandby.MAX_HELD, standby.held());
    int last = SttStandby.MAX_HELD * 3 - 1;
    assertEquals(List.of(new SttEvent.TranscriptFinal("hello there", 999, 900),
        new SttEvent.TranscriptPartial("word " + last, 1_000 + last)), standby.news(0));
  }
}
