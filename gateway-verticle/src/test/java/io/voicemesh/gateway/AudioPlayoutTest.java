package io.voicemesh.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import io.voicemesh.api.audio.Pcm16;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(VertxExtension.class)
@DisplayName("The audio playout")
class AudioPlayoutTest {
  private static final int RATE = Pcm16.DEFAULT_RATE_HZ;

  /** A 100 ms chunk whose first byte names it, so order can be read back. */
  private static Buffer chunk(int sentence, int chunk) {
    byte[] pcm = new byte[Pcm16.bytesFor(RATE, 100)];
    pcm[0] = (byte) (sentence * 10 + chunk);
    return Buffer.buffer(pcm);
  }

  @Test
  @DisplayName("plays sentences and chunks in order whatever order they arrive in, then drains")
  void reorders(Vertx vertx, VertxTestContext test) {
    List<Integer> played = new ArrayList<>();
    List<Integer> sentencesPlayed = new ArrayList<>();
    vertx.runOnContext(v -> {
      AudioPlayout playout = new AudioPlayout(vertx, RATE, 10_000, pcm -> played.add((int) pcm.getByte(0)),
          sentencesPlayed::add, () -> test.verify(() -> {
            assertEquals(List.of(0, 1, 2, 10, 11), played);
            assertEquals(List.of(0, 1), sentencesPlayed);
            test.completeNow();
          }));
      playout.chunk(1, 1, chunk(1, 1));
      playout.chunk(0, 1, chunk(0, 1));
      playout.chunk(1, 0, chunk(1, 0));
      playout.sentenceDone(1, 2);
      playout.lastSentence(2);
      test.verify(() -> assertEquals(List.of(), played, "nothing before chunk 0.0"));
      playout.chunk(0, 0, chunk(0, 0));
      playout.chunk(0, 2, chunk(0, 2));
      playout.sentenceDone(0, 3);
    });
  }

  @Test
  @DisplayName("a sentence that failed after some of its audio was played does not stall the turn")
  void failedSentence(Vertx vertx, VertxTestContext test) {
    List<Integer> played = new ArrayList<>();
    vertx.runOnContext(v -> {
      AudioPlayout playout = new AudioPlayout(vertx, RATE, 10_000, pcm -> played.add((int) pcm.getByte(0)), s -> { },
          () -> test.verify(() -> {
            assertEquals(List.of(0, 1, 10), played);
            test.completeNow();
          }));
      playout.chunk(0, 0, chunk(0, 0));
      playout.chunk(0, 1, chunk(0, 1));
      playout.sentenceDone(0, 0);
      playout.chunk(1, 0, chunk(1, 0));
      playout.sentenceDone(1, 1);
      playout.lastSentence(2);
    });
  }

  @Test
  @DisplayName("paces audio at real time, never more than the lead ahead")
  void paces(Vertx vertx, VertxTestContext test) {
    List<Long> sentAt = new CopyOnWriteArrayList<>();
    long start = System.nanoTime();
    vertx.runOnContext(v -> {
      AudioPlayout playout = new AudioPlayout(vertx, RATE, 200, pcm -> sentAt.add((System.nanoTime() - start) / 1_000_000),
          s -> { }, () -> test.verify(() -> {
            assertEquals(10, sentAt.size());
            // 1 s of audio with 200 ms lead: the last chunk (starting at 900 ms) goes out near 700 ms.
            assertTrue(sentAt.get(2) < 100, "the first 200 ms go at once: " + sentAt);
            assertTrue(sentAt.get(9) >= 650, "the rest is paced: " + sentAt);
            test.completeNow();
          }));
      for (int c = 0; c < 10; c++) {
        playout.chunk(0, c, chunk(0, c));
      }
      playout.sentenceDone(0, 10);
      playout.lastSentence(1);
    });
  }

  @Test
  @DisplayName("stop sends nothing more, even for chunks already queued")
  void stop(Vertx vertx, VertxTestContext test) {
    List<Integer> played = new CopyOnWriteArrayList<>();
    vertx.runOnContext(v -> {
      AudioPlayout playout = new AudioPlayout(vertx, RATE, 100, pcm -> played.add((int) pcm.getByte(0)), s -> { },
          () -> test.failNow("drained after stop"));
      for (int c = 0; c < 5; c++) {
        playout.chunk(0, c, chunk(0, c));
      }
      int before = played.size();
      playout.stop();
      playout.chunk(0, 5, chunk(0, 5));
      vertx.setTimer(400, t -> test.verify(() -> {
        assertEquals(before, played.size(), "played " + played);
        assertTrue(playout.sentMs() <= 200);
        test.completeNow();
      }));
    });
  }
}
