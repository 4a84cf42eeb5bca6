package io.voicemesh.api.audio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.voicemesh.api.audio.SpeechDetector.Transition;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("The speech detector")
class SpeechDetectorTest {
  private static final int RATE = 16_000;

  /** Feeds {@code ms} of audio from {@code signal} and records each transition with its time. */
  private static List<String> run(SpeechDetector detector, List<Segment> segments) {
    List<String> transitions = new ArrayList<>();
    Random random = new Random(42);
    byte[] frame = new byte[detector.frameBytes()];
    for (Segment segment : segments) {
      for (int t = 0; t < segment.ms; t += SpeechDetector.FRAME_MS) {
        for (int i = 0; i < frame.length / 2; i++) {
          double sample = segment.toneDbfs == null ? 0
              : Math.pow(10, segment.toneDbfs / 20) * Math.sqrt(2) * Math.sin(2 * Math.PI * 220 * i / RATE);
          if (segment.noiseDbfs != null) {
            sample += Math.pow(10, segment.noiseDbfs / 20) * random.nextGaussian();
          }
          int s = (int) Math.max(-32768, Math.min(32767, sample * 32768));
          frame[2 * i] = (byte) s;
          frame[2 * i + 1] = (byte) (s >> 8);
        }
        Transition transition = detector.accept(frame, 0);
        if (transition != Transition.NONE) {
          transitions.add(transition + "@" + detector.positionMs());
        }
      }
    }
    return transitions;
  }

  private record Segment(int ms, Double toneDbfs, Double noiseDbfs) {
    static Segment silence(int ms) {
      return new Segment(ms, null, null);
    }

    static Segment tone(int ms, double dbfs) {
      return new Segment(ms, dbfs, null);
    }

    static Segment noise(int ms, double dbfs) {
      return new Segment(ms, null, dbfs);
    }

    static Segment toneOverNoise(int ms, double toneDbfs, double noiseDbfs) {
      return new Segment(ms, toneDbfs, noiseDbfs);
    }
  }

  @Test
  @DisplayName("starts speech after the minimum speech length and ends the turn after the configured silence")
  void speechThenSilence() {
    List<String> t = run(new SpeechDetector(RATE, 100, 600),
        List.of(Segment.silence(400), Segment.tone(800, -20), Segment.silence(1000)));
    assertEquals(List.of("SPEECH_STARTED@500", "SPEECH_STOPPED@1800"), t);
  }

  @Test
  @DisplayName("a stream that continues an utterance is speech from its first frame and ends after the silence")
  void continuedSpeech() {
    SpeechDetector detector = new SpeechDetector(RATE, 300, 600);
    detector.continueSpeech();
    assertEquals(true, detector.speaking());
    List<String> t = run(detector, List.of(Segment.silence(200), Segment.tone(500, -20), Segment.silence(700)));
    assertEquals(List.of("SPEECH_STOPPED@1300"), t);
  }

  @Test
  @DisplayName("a pause shorter than the silence setting does not end the turn")
  void shortPause() {
    List<String> t = run(new SpeechDetector(RATE, 100, 600), List.of(Segment.silence(200),
        Segment.tone(500, -20), Segment.silence(400), Segment.tone(500, -20), Segment.silence(700)));
    assertEquals(List.of("SPEECH_STARTED@300", "SPEECH_STOPPED@2200"), t);
  }

  @Test
  @DisplayName("a click shorter than the minimum speech length is not speech")
  void click() {
    assertEquals(List.of(), run(new SpeechDetector(RATE, 100, 600),
        List.of(Segment.silence(300), Segment.tone(60, -10), Segment.silence(1000))));
  }

  @Test
  @DisplayName("five seconds of steady noise, quiet or loud, is never speech")
  void steadyNoise() {
    for (double level : new double[] {-60, -45, -35}) {
      assertEquals(List.of(), run(new SpeechDetector(RATE, 100, 600), List.of(Segment.noise(5_000, level))),
          "noise at " + level + " dBFS");
    }
  }

  @Test
  @DisplayName("speech well above steady background noise is still heard")
  void speechOverNoise() {
    List<String> t = run(new SpeechDetector(RATE, 100, 600), List.of(Segment.noise(2_000, -45),
        Segment.toneOverNoise(600, -20, -45), Segment.noise(1_000, -45)));
    assertEquals(List.of("SPEECH_STARTED@2100", "SPEECH_STOPPED@3200"), t);
  }

  @Test
  @DisplayName("rejects settings that cannot work")
  void rejectsBadSettings() {
    assertThrows(IllegalArgumentException.class, () -> new SpeechDetector(4_000, 100, 600));
    assertThrows(IllegalArgumentException.class, () -> new SpeechDetector(RATE, 0, 600));
    assertEquals(Pcm16.bytesFor(RATE, 20), new SpeechDetector(RATE, 100, 600).frameBytes());
  }
}
