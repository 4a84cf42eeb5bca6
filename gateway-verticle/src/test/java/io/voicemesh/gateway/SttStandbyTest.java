package io.voicemesh.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;

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
    heardItFirst.servingFinal();
    heardItFirst.heard(new SttEvent.TranscriptPartial("what", 3_300));
    assertEquals(List.of(new SttEvent.TranscriptPartial("what", 3_300)), heardItFirst.news(2_300));
    assertEquals(0, heardItFirst.behind());

    SttStandby lagging = standby();
    lagging.heard(new SttEvent.TranscriptPartial("hello", 1_500));
    lagging.servingFinal(); // the serving stream ended it; the standby has not got that far
    lagging.heard(new SttEvent.TranscriptPartial("hello there", 1_740));
    assertEquals(List.of(), lagging.news(2_300), "its events of that utterance are not news");
    assertEquals(1, lagging.behind(), "and its final of it must be skipped after it takes over");
    lagging.heard(new SttEvent.TranscriptFinal("hello there", 2_300, 1_900));
    assertEquals(0, lagging.behind());
    lagging.heard(new SttEvent.TranscriptPartial("what", 3_300));
    assertEquals(List.of(new SttEvent.TranscriptPartial("what", 3_300)), lagging.news(2_300));
  }

  @Test
  @DisplayName("holds a bounded number of events")
  void bounded() {
    SttStandby standby = standby();
    for (int i = 0; i < SttStandby.MAX_HELD * 3; i++) {
      standby.heard(new SttEvent.TranscriptPartial("word " + i, 1_000 + i));
    }
    assertEquals(SttStandby.MAX_HELD, standby.held());
    int last = SttStandby.MAX_HELD * 3 - 1;
    assertEquals(List.of(new SttEvent.TranscriptPartial("word " + last, 1_000 + last)), standby.news(0));
  }
}
