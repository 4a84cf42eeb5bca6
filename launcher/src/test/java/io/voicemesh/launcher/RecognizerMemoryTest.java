package io.voicemesh.launcher;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.voicemesh.api.audio.Pcm16;
import io.voicemesh.api.engine.Engines;
import io.voicemesh.api.engine.SttEngine;
import io.voicemesh.api.engine.SttEngineProvider;
import io.voicemesh.api.engine.SttStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

/**
 * Vosk recognizers live in native memory (≈ 25 MB each while decoding). When a busy spell is over
 * and they are closed, the STT node's resident memory must come down again, not stay at its peak
 * (glibc keeps freed memory in its arenas unless asked to give it back).
 */
@DisplayName("Native memory of closed recognizers")
@EnabledOnOs(OS.LINUX)
class RecognizerMemoryTest {
  private static final int STREAMS = 16;
  private static final LibC GLIBC = com.sun.jna.Native.load("c", LibC.class);

  /** glibc's {@code malloc_trim}, as the STT node calls it (its {@code NativeHeapTrim} is not reachable from here). */
  interface LibC extends com.sun.jna.Library {
    int malloc_trim(long pad);
  }

  @Test
  @DisplayName("16 recognizers decode at once, then close: resident memory falls back by at least half the rise")
  void closedRecognizersGiveMemoryBack() throws Exception {
    SttEngine engine = Engines.create(SttEngineProvider.class, "vosk", (Vertx) null, new JsonObject()
        .put("modelCacheDir", Path.of("target", "test-data", "models").toString())
        .put("idleRecognizers", 0).put("warmup", false));
    ExecutorService threads = Executors.newFixedThreadPool(STREAMS);
    try {
      byte[] pcm = Speech.say("what time is it");
      // Earlier tests in this JVM leave freed memory with the allocator, which new recognizers would
      // take without raising the resident size (1529 → 1612 MB in one full run): give it back first.
      GLIBC.malloc_trim(0);
      long before = residentMb();
      List<SttStream> open = new ArrayList<>();
      for (int i = 0; i < STREAMS; i++) {
        open.add(engine.open(Pcm16.DEFAULT_RATE_HZ));
      }
      List<Future<?>> decoded = new ArrayList<>();
      int window = Pcm16.bytesFor(Pcm16.DEFAULT_RATE_HZ, 20);
      for (SttStream stream : open) {
        decoded.add(threads.submit(() -> {
          for (int offset = 0; offset + window <= pcm.length; offset += window) {
            stream.accept(Arrays.copyOfRange(pcm, offset, offset + window), window);
          }
        }));
      }
      for (Future<?> done : decoded) {
        done.get(60, TimeUnit.SECONDS);
      }
      // Measured before the utterances end: a stream gives its recognizer back at an end after quiet.
      long peak = residentMb();
      assertTrue(peak - before > 100, "16 decoding recognizers take native memory: " + before + " → " + peak + " MB");
      for (SttStream stream : open) {
        String heard = stream.finish();
        assertTrue(heard.contains("time is it"), "each stream decoded the phrase: \"" + heard + "\"");
      }
      open.forEach(SttStream::close);
      long bound = before + (peak - before) / 2;
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      long now = residentMb();
      while (now > bound && System.nanoTime() < deadline) {
        TimeUnit.MILLISECONDS.sleep(200); // polling, bounded by the deadline
        now = residentMb();
      }
      assertTrue(now <= bound, "resident memory " + before + " MB before, " + peak + " MB decoding, still " + now
          + " MB 30 s after the recognizers closed (bound " + bound + " MB)");
    } finally {
      threads.shutdownNow();
      engine.close();
    }
  }

  private static long residentMb() {
    long mb = ClusterProcesses.residentMb(ProcessHandle.current().pid());
    assertTrue(mb >= 0, "no VmRSS in /proc/self/status");
    return mb;
  }
}
