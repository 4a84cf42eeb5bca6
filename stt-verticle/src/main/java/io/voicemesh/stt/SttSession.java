package io.voicemesh.stt;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import io.voicemesh.api.Json;
import io.voicemesh.api.SerialTasks;
import io.voicemesh.api.audio.Pcm16;
import io.voicemesh.api.audio.Reframer;
import io.micrometer.core.instrument.Timer;
import io.voicemesh.api.message.FrameStamp;
import io.voicemesh.api.message.SttControl;
import io.voicemesh.api.message.SttEvent;
import io.voicemesh.api.message.SttOpen;
import io.voicemesh.api.engine.SpeechSegmenter;
import io.voicemesh.api.engine.SttStream;
import io.vertx.core.Promise;
import java.util.Arrays;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One session's audio stream on this STT node. Frames arrive on the event loop and are processed
 * strictly in order on a worker thread (the recognizer blocks), one chained task after another.
 *
 * <pre>
 * frame ─▶ 20 ms windows ─▶ SpeechSegmenter ─▶ speech_started … transcript.final
 *                             (detector + recognizer)
 * </pre>
 */
final class SttSession {
  private static final Logger LOG = LoggerFactory.getLogger(SttSession.class);
  /** Audio queued for the recognizer beyond this is dropped: the node is overloaded. */
  static final int MAX_BACKLOG_MS = 20_000;

  /** The meters every stream of this node records into. */
  record Meters(Timer audioHop, Timer finalLatency) {
  }

  private final SttOpen spec;
  private final Meters meters;
  /** The verticle's context: where this session's state outside the worker is touched. */
  private final Context context;
  /** When the message being processed (a frame, a commit) reached this node. */
  private long arrivedNanos;
  /** The stream's id on this node's stream address: every message to and from it names it. */
  private final String id = java.util.UUID.randomUUID().toString();
  private final EventBus bus;
  private final SttStream stream;
  private final SpeechSegmenter segmenter;
  private final Reframer windows;
  private final int maxBacklogBytes;
  /** This session's recognizer work, in order, on the node's recognizer threads. */
  private final SerialTasks tasks;
  private final AtomicInteger backlogBytes = new AtomicInteger();
  private final AtomicInteger recognizersHeld;
  private long lastFrameAt;
  private final long openedAt = System.currentTimeMillis();
  private boolean fed;
  private volatile long firstFrameAt;
  /** Worker-thread only: the first words of a stream that continues an utterance were logged. */
  private boolean continuedReported;
  /** Told once a close has finished: the node stops routing to this stream. */
  private final Consumer<SttSession> released;
  /** The close under way or done; null while the stream is open. */
  private Future<Void> closing;
  /**
   * The gateway closed the stream (or went away): the audio still queued for the recognizer is
   * skipped, not decoded, so a node that had fallen behind frees the recognizer (≈ 25 MB native)
   * at once instead of after decoding up to {@link #MAX_BACKLOG_MS} of audio nobody will read.
   * A close that is the node's own idea (idle, stopping) still decodes it: the gateway moves only
   * what this node never heard. A standby giving way ({@link #giveWay}) skips it too.
   */
  private volatile boolean nobodyListens;
  private boolean standby;

  SttSession(Vertx vertx, UserFairPool recognizers, SttOpen spec, SttStream stream, Meters meters,
      AtomicInteger recognizersHeld, Consumer<SttSession> released) {
    this.released = released;
    this.spec = spec;
    this.standby = spec.standby();
    this.recognizersHeld = recognizersHeld;
    recognizersHeld.incrementAndGet();
    this.meters = meters;
    this.context = vertx.getOrCreateContext();
    this.bus = vertx.eventBus();
    this.stream = stream;
    this.segmenter = new SpeechSegmenter(stream, spec.sampleRateHz(), spec.minSpeechMs(), spec.endOfTurn(), true,
        new Events());
    if (spec.inSpeech()) {
      segmenter.continueSpeech();
    }
    this.windows = new Reframer(segmenter.windowBytes(), segmenter::accept);
    this.maxBacklogBytes = Pcm16.bytesFor(spec.sampleRateHz(), MAX_BACKLOG_MS);
    this.lastFrameAt = System.currentTimeMillis();
    // The recognizer threads are shared between users, then between each user's streams.
    this.tasks = new SerialTasks(recognizers.forUser(spec.userId()), this::recognizerFailed);
  }

  String id() {
    return id;
  }

  long idleMs(long now) {
    return now - lastFrameAt;
  }

  /** A frame or control message of this stream, routed here by the node. */
  void receive(Message<Object> message) {
    if (closing != null) {
      return;
    }
    long arrived = System.nanoTime();
    if (message.body() instanceof Buffer frame) {
      lastFrameAt = System.currentTimeMillis();
      if (!fed) {
        // The gateway claimed the stream (it sends audio only once the open was answered): from
        // now on it takes this stream's events, warnings from the open included.
        stream.onWarning(warning -> emit(new SttEvent.Warning(warning, segmenter.positionMs())));
        fed = true;
        firstFrameAt = System.currentTimeMillis();
      }
      long hopMicros = FrameStamp.ageMicros(message.headers());
      if (hopMicros >= 0) {
        meters.audioHop().record(hopMicros, TimeUnit.MICROSECONDS);
      }
      if (backlogBytes.get() + frame.length() > maxBacklogBytes) {
        LOG.warn("session {}: recognizer backlog over {} ms, dropping a frame", spec.sessionId(), MAX_BACKLOG_MS);
        return;
      }
      backlogBytes.addAndGet(frame.length());
      byte[] pcm = frame.getBytes();
      submit(() -> {
        arrivedNanos = arrived;
        backlogBytes.addAndGet(-pcm.length);
        if (!nobodyListens) {
          windows.accept(pcm);
        }
      });
    } else if (message.body() instanceof JsonObject json) {
      SttControl control = Json.decode(json, SttControl.class);
      if (control instanceof SttControl.Commit) {
        enqueue(() -> {
          arrivedNanos = arrived;
          if (!nobodyListens) {
            endTurn();
          }
          return null;
        });
      } else if (control instanceof SttControl.Close) {
        close(null);
      }
    }
  }

  /**
   * The recognizer threw (a remote engine lost without a fallback, an engine bug): the stream is
   * closed with a reason, so the gateway moves the session to another node and replays its audio,
   * instead of every later frame failing the same way.
   */
  private void recognizerFailed(RuntimeException e) {
    LOG.error("session {}: recognizer failed", spec.sessionId(), e);
    context.runOnContext(v -> {
      if (closing == null) {
        close("the recognizer failed: " + e.getMessage());
      }
    });
  }

  /** Runs {@code task} on a worker, in order with every other task of this session. */
  private void submit(Runnable task) {
    tasks.submit(task);
  }

  /** Like {@link #submit}, with a future completed back on the verticle's context. */
  private Future<Void> enqueue(Callable<Void> task) {
    Promise<Void> done = Promise.promise();
    submit(() -> {
      try {
        task.call();
        context.runOnContext(v -> done.complete());
      } catch (Exception e) {
        context.runOnContext(v -> done.fail(e));
      }
    });
    return done.future();
  }

  private void endTurn() {
    segmenter.endUtterance();
  }

  /** The segmenter's findings, as events to the gateway. */
  private final class Events implements SpeechSegmenter.Listener {
    @Override
    public void speechStarted(long audioMs) {
      emit(new SttEvent.SpeechStarted(audioMs));
    }

    @Override
    public void partial(String text, long audioMs) {
      if (spec.inSpeech() && !continuedReported) {
        // A stream moved here mid-utterance: how long its replay took to give words again is the
        // node-loss pause the client hears, so say where it went.
        continuedReported = true;
        long now = System.currentTimeMillis();
        LOG.info("session {}: moved stream's first words after {} ms of its audio, {} ms after its first frame came "
            + "({} ms after the open)", spec.sessionId(), audioMs, now - firstFrameAt, firstFrameAt - openedAt);
      }
      emit(new SttEvent.TranscriptPartial(text, audioMs));
    }

    @Override
    public void speechStopped(long audioMs) {
      emit(new SttEvent.SpeechStopped(audioMs));
    }

    @Override
    public void utteranceEnded(String text, long audioMs, long speechStartMs, long speechEndMs) {
      emit(new SttEvent.TranscriptFinal(text, audioMs, speechEndMs));
      meters.finalLatency().record(System.nanoTime() - arrivedNanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public void checkpoint(long audioMs) {
      emit(new SttEvent.Checkpoint(audioMs));
    }
  }

  private void emit(SttEvent event) {
    bus.send(spec.eventsAddress(), Json.encode(event), new DeliveryOptions().addHeader(SttOpen.STREAM_HEADER, id));
  }

  /**
   * Stops taking frames, lets queued work finish (or skips it, see {@link #nobodyListens}), then
   * frees the recognizer and tells the node, which stops routing to the stream. With a
   * {@code reason}, the close was the worker's idea and the gateway is told — after the queued
   * audio's events, so it moves only what this node never heard. Until then the stream stays
   * routed, ignoring frames: a frame to a stream the node no longer knows is answered with
   * {@code stream.closed} too, and the gateway would move the stream before the orderly hand-over.
   */
  Future<Void> close(String reason) {
    return close(reason, reason == null);
  }

  /**
   * A standby giving its place to a stream: its queued audio is skipped (its gateway drops the
   * standby, so nobody would read what it heard) and its gateway is told why.
   */
  Future<Void> giveWay(String reason) {
    return close(reason, true);
  }

  private Future<Void> close(String reason, boolean skipQueued) {
    if (closing != null) {
      return closing; // a drain or stop waits for a close already under way, too
    }
    nobodyListens = skipQueued;
    Future<Void> decoded = enqueue(() -> {
      stream.close();
      recognizersHeld.decrementAndGet();
      if (reason != null) {
        emit(new SttEvent.StreamClosed(id, reason, segmenter.positionMs()));
      }
      return null;
    });
    closing = decoded.andThen(done -> released.accept(this));
    return closing;
  }

  /** Opened but never fed: the gateway that asked gave up (timeout) or went away. */
  boolean unclaimed(long now, long withinMs) {
    return !fed && now - openedAt > withinMs;
  }

  /** A hot standby of the session's stream on another node, until it is told to {@link #serve}. */
  boolean standby() {
    return standby;
  }

  /** The session's stream was lost elsewhere: this standby serves the session now. */
  void serve() {
    standby = false;
  }

  /** What the stream was opened with: its session, user and token. */
  SttOpen spec() {
    return spec;
  }

  /** The gateway node of the connection this stream serves. */
  String gatewayNode() {
    return spec.gatewayNode();
  }

  @Override
  public String toString() {
    return "SttSession" + Arrays.asList(spec.sessionId(), id, spec.sampleRateHz());
  }
}
