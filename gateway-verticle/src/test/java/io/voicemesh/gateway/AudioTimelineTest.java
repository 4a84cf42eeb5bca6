package io.voicemesh.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.voicemesh.api.audio.Pcm16;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("The input-audio timeline")
class AudioTimelineTest {
  private static final int FRAME = Pcm16.bytesFor(16_000, 20);

  @Test
  @DisplayName("maps a position in the forwarded audio to when the frame holding it arrived")
  void positions() {
    AudioTimeline timeline = new AudioTimeline();
    assertEquals(-1, timeline.arrivalOf(0), "nothing known before any audio");
    for (int i = 0; i < 10; i++) {
      timeline.forwarded(16_000, FRAME, 1_000 + i);
    }
    assertEquals(1_000, timeline.arrivalOf(0));
    assertEquals(1_000, timeline.arrivalOf(20));
    assertEquals(1_001, timeline.arrivalOf(21));
    assertEquals(1_009, timeline.arrivalOf(200));
    assertEquals(-1, timeline.arrivalOf(201), "not arrived yet");
    assertEquals(200, timeline.positionMs(), "the next frame starts where the audio so far ends");
  }

  @Test
  @DisplayName("forgets what is older than its capacity")
  void forgets() {
    AudioTimeline timeline = new AudioTimeline();
    for (int i = 0; i < AudioTimeline.CAPACITY + 100; i++) {
      timeline.forwarded(16_000, FRAME, i);
    }
    assertEquals(-1, timeline.arrivalOf(20L * 10), "long gone");
    assertEquals(AudioTimeline.CAPACITY + 99, timeline.arrivalOf(20L * (AudioTimeline.CAPACITY + 100)));
  }
}
