package io.voicemesh.stt;

import io.voicemesh.api.audio.Pcm16;
import io.voicemesh.api.engine.EngineUnavailableException;
import io.voicemesh.api.engine.SttEngine;
import io.voicemesh.api.engine.SttStream;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A stream on a remote engine that can go on with the node's embedded engine. It keeps the audio
 * of the current utterance: when the remote stream breaks, an embedded stream hears that audio
 * again and takes over, so the utterance's transcript stays whole. At an utterance boundary with
 * a healthy worker again, the session moves back. Each move to the embedded engine is reported
 * as a warning to the session.
 */
final class FallbackStream implements SttStream {
  private static final Logger LOG = LoggerFactory.getLogger(FallbackStream.class);
  /** Audio of one utterance kept for a takeover; an utterance longer than this loses its start. */
  static final int MAX_KEPT_MS = 30_000;
  /** How often a session on the embedded engine tries its way back to a worker. */
  static final long MOVE_BACK_EVERY_MS = 5_000;

  private final SttEngine remote;
  private final SttEngine embedded;
  private final String embeddedName;
  private final int sampleRateHz;
  private final int maxKeptBytes;
  private final ArrayDeque<byte[]> utterance = new ArrayDeque<>();
  private int keptBytes;
  private SttStream current;
  private boolean onRemote;
  private Consumer<String> warnings;
  private final List<String> unreported = new ArrayList<>();
  private long lastMoveBackAttempt;

  private FallbackStream(SttEngine remote, SttEngine embedded, String embeddedName, int sampleRateHz) {
    this.remote = remote;
    this.embedded = embedded;
    this.embeddedName = embeddedName;
    this.sampleRateHz = sampleRateHz;
    this.maxKeptBytes = Pcm16.bytesFor(sampleRateHz, MAX_KEPT_MS);
  }

  /** A stream on the remote engine when it can take one, else on the embedded engine (with a warning). */
  static FallbackStream open(SttEngine remote, SttEngine embedded, String embeddedName, int sampleRateHz)
      throws Exception {
    FallbackStream stream = new FallbackStream(remote, embedded, embeddedName, sampleRateHz);
    String reason = "no speech worker is healthy";
    if (remote.available()) {
      try {
        stream.current = remote.open(sampleRateHz);
        stream.onRemote = true;
        return stream;
      } catch (EngineUnavailableException e) {
        reason = e.getMessage();
      }
    }
    stream.current = embedded.open(sampleRateHz);
    stream.warn(reason);
    return stream;
  }

  @Override
  public String accept(byte[] pcm, int length) {
    if (!onRemote) {
      return current.accept(pcm, length); // nothing to take over from: no copy kept
    }
    keep(Arrays.copyOf(pcm, length));
    try {
      return current.accept(pcm, length);
    } catch (EngineUnavailableException e) {
      return takeOver(e);
    }
  }

  @Override
  public Settled settle() {
    if (!onRemote) {
      return current.settle();
    }
    try {
      return current.settle();
    } catch (EngineUnavailableException e) {
      takeOver(e);
      return current.settle();
    }
  }

  @Override
  public String finish() {
    String text;
    if (onRemote) {
      try {
        text = current.finish();
      } catch (EngineUnavailableException e) {
        takeOver(e);
        text = current.finish();
      }
    } else {
      text = current.finish();
      moveBackWhenHealthy();
    }
    utterance.clear();
    keptBytes = 0;
    return text;
  }

  /** The remote stream broke: the embedded engine hears the utterance so far and carries on. */
  private String takeOver(EngineUnavailableException cause) {
    current.close();
    onRemote = false;
    try {
      current = embedded.open(sampleRateHz);
    } catch (Exception e) {
      throw new IllegalStateException("the embedded " + embeddedName + " engine could not take over", e);
    }
    warn(cause.getMessage());
    String hypothesis = "";
    for (byte[] window : utterance) {
      hypothesis = current.accept(window, window.length);
    }
    return hypothesis;
  }

  private void moveBackWhenHealthy() {
    long now = System.currentTimeMillis();
    if (!remote.available() || now - lastMoveBackAttempt < MOVE_BACK_EVERY_MS) {
      return;
    }
    lastMoveBackAttempt = now;
    try {
      SttStream back = remote.open(sampleRateHz);
      current.close();
      current = back;
      onRemote = true;
      LOG.info("a session moved back to its speech worker");
    } catch (Exception e) {
      LOG.debug("still on the embedded engine: {}", e.getMessage());
    }
  }

  private void keep(byte[] window) {
    utterance.addLast(window);
    keptBytes += window.length;
    while (keptBytes > maxKeptBytes) {
      keptBytes -= utterance.removeFirst().length;
    }
  }

  private synchronized void warn(String reason) {
    String message = "speech worker unavailable (" + reason + "); the embedded " + embeddedName
        + " engine recognizes this session's audio";
    LOG.warn(message);
    if (warnings == null) {
      unreported.add(message);
    } else {
      warnings.accept(message);
    }
  }

  @Override
  public synchronized void onWarning(Consumer<String> sink) {
    warnings = sink;
    unreported.forEach(sink);
    unreported.clear();
  }

  @Override
  public void close() {
    current.close();
  }
}
