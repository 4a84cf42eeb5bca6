package io.voicemesh.stt;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.vosk.Model;
import org.vosk.Recognizer;

/**
 * Vosk recognizers kept between streams. A recognizer expands the model's decoding graph lazily,
 * as it decodes, and keeps what it expanded: a new one decodes its first seconds of speech 3–5
 * times slower than one that has decoded speech before (bundled model, this project's 2-core
 * machines: real-time factor 1.4–2.8 new, 0.3–0.4 reused, and ~200 ms to create). So a stream
 * takes the warmest idle recognizer (the most audio decoded) — a failover replay and a new
 * session start at full speed — and gives it back, reset, when it closes. Beyond {@code maxIdle}
 * idle recognizers the coldest is closed. Thread-safe: streams open and close on worker threads.
 */
final class RecognizerPool {

  /** A recognizer and how much audio it has decoded in all. */
  static final class Pooled {
    final Recognizer recognizer;
    final int rateHz;
    private long decodedBytes;

    private Pooled(Recognizer recognizer, int rateHz) {
      this.recognizer = recognizer;
      this.rateHz = rateHz;
    }

    void decoded(int bytes) {
      decodedBytes += bytes;
    }
  }

  private final Model model;
  private final int maxIdle;
  private final List<Pooled> idle = new ArrayList<>();
  /** Recognizers taken and not yet given back. */
  private int busy;
  private boolean closed;

  RecognizerPool(Model model, int maxIdle) {
    this.model = model;
    this.maxIdle = maxIdle;
  }

  /** The warmest idle recognizer for {@code rateHz}, else a new one. */
  Pooled take(int rateHz) throws IOException {
    synchronized (this) {
      Pooled warmest = idle.stream().filter(p -> p.rateHz == rateHz)
          .max(Comparator.comparingLong(p -> p.decodedBytes)).orElse(null);
      if (warmest != null) {
        idle.remove(warmest);
        busy++;
        return warmest;
      }
    }
    return create(rateHz);
  }

  /** A new recognizer for audio at {@code rateHz}, counted as busy until given back. */
  private Pooled create(int rateHz) throws IOException {
    Pooled created = new Pooled(new Recognizer(model, rateHz), rateHz);
    synchronized (this) {
      busy++;
    }
    return created;
  }

  /** Creates one idle recognizer ahead of the first stream, so that stream need not wait for it. */
  void prepare(int rateHz) throws IOException {
    giveBack(create(rateHz));
  }

  /**
   * Decodes {@code pcm} (20 ms at a time, as streams do) with an idle recognizer, twice, and gives
   * it back warm. Streams opened meanwhile get another recognizer.
   */
  void warm(byte[] pcm, int rateHz) throws IOException {
    Pooled pooled = take(rateHz);
    int window = rateHz / 50 * 2;
    for (int pass = 0; pass < 2; pass++) {
      for (int offset = 0; offset + window <= pcm.length; offset += window) {
        if (!pooled.recognizer.acceptWaveForm(java.util.Arrays.copyOfRange(pcm, offset, offset + window), window)) {
          pooled.recognizer.getPartialResult();
        }
      }
      pooled.recognizer.getFinalResult();
      pooled.decoded(pcm.length);
    }
    giveBack(pooled);
  }

  /**
   * The stream is done with it: finalized (its audio, features and speaker adaptation go; its
   * expanded graph stays) and kept. {@code Recognizer.reset()} is not enough: after it Vosk goes on
   * with the same feature pipeline, so the next stream would hear the end of this one's words.
   * Only a final result drops the pipeline, and Vosk gives one only while audio is being decoded,
   * hence the moment of silence first.
   */
  void giveBack(Pooled pooled) {
    byte[] silence = new byte[pooled.rateHz / 100 * 2];
    pooled.recognizer.acceptWaveForm(silence, silence.length);
    pooled.recognizer.getFinalResult();
    Pooled coldest = pooled;
    synchronized (this) {
      busy--;
      if (!closed && maxIdle > 0) {
        idle.add(pooled);
        coldest = idle.size() > maxIdle ? idle.stream().min(Comparator.comparingLong(p -> p.decodedBytes)).orElseThrow()
            : null;
        idle.remove(coldest);
      }
    }
    if (coldest != null) {
      coldest.recognizer.close();
      NativeHeapTrim.soon();
    }
  }

  synchronized int idle() {
    return idle.size();
  }

  /** Recognizers decoding a stream's audio now. */
  synchronized int busy() {
    return busy;
  }

  /** Idle recognizers that have decoded speech: what a new stream or a failover replay starts on at full speed. */
  synchronized int warmIdle() {
    return (int) idle.stream().filter(p -> p.decodedBytes > 0).count();
  }

  /** Closes the idle recognizers; those still in use are closed when given back. */
  void close() {
    List<Pooled> closing;
    synchronized (this) {
      closed = true;
      closing = List.copyOf(idle);
      idle.clear();
    }
    closing.forEach(p -> p.recognizer.close());
    NativeHeapTrim.soon();
  }
}
