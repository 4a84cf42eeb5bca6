package io.voicemesh.stt;

import com.sun.jna.Library;
import com.sun.jna.Native;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Gives the memory of closed Vosk recognizers back to the operating system. A recognizer holds
 * ≈ 25 MB of native memory while it decodes (its part of the decoding graph, expanded as it goes);
 * glibc keeps what was freed in its per-thread arenas, so after a busy spell the process stayed
 * at its peak (24 recognizers: 873 MB decoding, 625 MB after they were closed, 168 MB after
 * {@code malloc_trim}). {@link #soon()} trims once, off the caller's thread, at most every
 * {@value #MIN_INTERVAL_MS} ms; a trim takes ≈ 100 ms of one core. Where there is no glibc
 * (musl, macOS) it does nothing.
 */
final class NativeHeapTrim {
  private static final Logger LOG = LoggerFactory.getLogger(NativeHeapTrim.class);
  static final long MIN_INTERVAL_MS = 10_000;

  private interface LibC extends Library {
    int malloc_trim(long pad);
  }

  private static final LibC LIBC = load();
  private static final AtomicLong LAST_TRIM_AT = new AtomicLong();
  private static final AtomicBoolean SCHEDULED = new AtomicBoolean();

  private NativeHeapTrim() {
  }

  private static LibC load() {
    try {
      LibC libc = Native.load("c", LibC.class);
      libc.malloc_trim(0);
      return libc;
    } catch (UnsatisfiedLinkError | RuntimeException noGlibc) {
      LOG.info("native heap trimming unavailable here ({}); freed recognizer memory stays with the allocator",
          noGlibc.toString());
      return null;
    }
  }

  /** Trims on a daemon thread within {@value #MIN_INTERVAL_MS} ms; calls meanwhile share it. */
  static void soon() {
    if (LIBC == null || !SCHEDULED.compareAndSet(false, true)) {
      return;
    }
    Thread trimming = new Thread(() -> {
      try {
        long wait = LAST_TRIM_AT.get() + MIN_INTERVAL_MS - System.currentTimeMillis();
        if (wait > 0) {
          Thread.sleep(wait); // rate limit on a thread of its own, not a wait for another thread
        }
        SCHEDULED.set(false);
        LAST_TRIM_AT.set(System.currentTimeMillis());
        LIBC.malloc_trim(0);
      } catch (InterruptedException stopping) {
        SCHEDULED.set(false);
        Thread.currentThread().interrupt();
      }
    }, "vosk-native-trim");
    trimming.setDaemon(true);
    trimming.setPriority(Thread.MIN_PRIORITY);
    trimming.start();
  }
}
