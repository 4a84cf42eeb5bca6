package io.voicemesh.stt;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import io.voicemesh.api.Addresses;
import io.voicemesh.api.Json;
import io.voicemesh.api.audio.Pcm16;
import io.voicemesh.api.audio.Reframer;
import io.micrometer.core.instrument.Timer;
import io.voicemesh.api.message.FrameStamp;
import io.voicemesh.api.message.SttControl;
import io.voicemesh.api.message.SttEvent;
import io.voicemesh.api.message.SttOpen;
import io.voicemesh.api.engine.SttStream;
import io.vertx.core.Promise;
import java.util.Arrays;
import java.util.Queue;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One session's audio stream on this STT node. Frames arrive on the event loop and are processed
 * strictly in order on a worker thread (the recognizer blocks), one chained task after another.
 *
 * <pre>
 * frame ─▶ 20 ms windows ─▶ SpeechDetector ─▶ speech_started / end of turn
 *       └────────────────▶ recognizer ──────▶ transcript.partial … transcript.final
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
  private final String address;
  private final EventBus bus;
  private final WorkerExecutor worker;
  private final SttStream stream;
  private final SpeechDetector detector;
  private final Reframer windows;
  private final int maxBacklogBytes;
  private String lastPartial = "";
  private boolean utteranceHasAudio;
  /**
   * This session's work, run in order by at most one drain at a time on a worker: under load a
   * busy session's frames share one worker hand-off instead of taking one each.
   */
  private final Queue<Runnable> tasks = new ConcurrentLinkedQueue<>();
  private final AtomicBoolean draining = new AtomicBoolean();
  private final AtomicInteger backlogBytes = new AtomicInteger();
  private long lastFrameAt;
  private final long openedAt = System.currentTimeMillis();
  private boolean fed;
  private MessageConsumer<Object> consumer;
  private boolean closed;

  SttSession(Vertx vertx, WorkerExecutor worker, SttOpen spec, SttStream stream, Meters meters) {
    this.spec = spec;
    this.meters = meters;
    this.context = vertx.getOrCreateContext();
    this.address = Addresses.sttStream(spec.sessionId(), java.util.UUID.randomUUID().toString());
    this.bus = vertx.eventBus();
    this.worker = worker;
    this.stream = stream;
    this.detector = new SpeechDetector(spec.sampleRateHz(), spec.minSpeechMs(), spec.silenceMs());
    this.windows = new Reframer(detector.frameBytes(), this::processWindow);
    this.maxBacklogBytes = Pcm16.bytesFor(spec.sampleRateHz(), MAX_BACKLOG_MS);
    this.lastFrameAt = System.currentTimeMillis();
  }

  /** Registers the stream address; completes with it once frames sent to it will arrive. */
  Future<String> listen(Runnable onClosed) {
    consumer = bus.consumer(address, message -> receive(message, onClosed));
    return consumer.completion().map(address);
  }

  long idleMs(long now) {
    return now - lastFrameAt;
  }

  private void receive(Message<Object> message, Runnable onClosed) {
    if (closed) {
      return;
    }
    long arrived = System.nanoTime();
    if (message.body() instanceof Buffer frame) {
      lastFrameAt = System.currentTimeMillis();
      fed = true;
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
        windows.accept(pcm);
      });
    } else if (message.body() instanceof JsonObject json) {
      SttControl control = Json.decode(json, SttControl.class);
      if (control instanceof SttControl.Commit) {
        enqueue(() -> {
          arrivedNanos = arrived;
          endTurn();
          return null;
        });
      } else if (control instanceof SttControl.Close) {
        close(null).onComplete(ignored -> onClosed.run());
      }
    }
  }

  /** Runs {@code task} on a worker, in order with every other task of this session. */
  private void submit(Runnable task) {
    tasks.add(task);
    if (draining.compareAndSet(false, true)) {
      worker.executeBlocking(this::drain, false);
    }
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

  private Void drain() {
    do {
      Runnable task;
      while ((task = tasks.poll()) != null) {
        try {
          task.run();
        } catch (RuntimeException e) {
          LOG.error("session {}: recognizer failed", spec.sessionId(), e);
        }
      }
      draining.set(false);
    } while (!tasks.isEmpty() && draining.compareAndSet(false, true));
    return null;
  }

  private void processWindow(byte[] window) {
    SpeechDetector.Transition transition = detector.accept(window, 0);
    if (transition == SpeechDetector.Transition.SPEECH_STARTED) {
      emit(new SttEvent.SpeechStarted(detector.positionMs()));
    }
    utteranceHasAudio = true;
    String hypothesis = stream.accept(window, window.length);
    if (detector.speaking() && !hypothesis.isEmpty() && !hypothesis.equals(lastPartial)) {
      lastPartial = hypothesis;
      emit(new SttEvent.TranscriptPartial(hypothesis, detector.positionMs()));
    }
    if (transition == SpeechDetector.Transition.SPEECH_STOPPED) {
      emit(new SttEvent.SpeechStopped(detector.positionMs()));
      endTurn();
    } else if (!detector.speaking() && detector.quietMs() > 0 && detector.quietMs() % spec.silenceMs() < SpeechDetector.FRAME_MS) {
      // Every silenceMs without speech, whatever the recognizer heard never became speech (a
      // cough, a click, noise): drop it, so it neither starts a turn nor leaks into the next
      // transcript. The recognizer keeps at most that much audio from before speech begins.
      stream.finish();
      utteranceHasAudio = false;
      emit(new SttEvent.Checkpoint(detector.positionMs()));
    }
  }

  private void endTurn() {
    String text = utteranceHasAudio ? stream.finish() : "";
    if (detector.speaking()) {
      emit(new SttEvent.SpeechStopped(detector.positionMs()));
    }
    detector.reset();
    utteranceHasAudio = false;
    lastPartial = "";
    emit(new SttEvent.TranscriptFinal(text, detector.positionMs(), detector.lastVoicedEndMs()));
    meters.finalLatency().record(System.nanoTime() - arrivedNanos, TimeUnit.NANOSECONDS);
  }

  private void emit(SttEvent event) {
    bus.send(spec.eventsAddress(), Json.encode(event), new DeliveryOptions().addHeader(SttOpen.STREAM_HEADER, address));
  }

  /**
   * Stops taking frames, lets queued work finish, then frees the recognizer. With a
   * {@code reason}, the close was the worker's idea and the gateway is told — after the queued
   * audio's events, so it moves only what this node never heard.
   */
  Future<Void> close(String reason) {
    if (closed) {
      return Future.succeededFuture();
    }
    closed = true;
    Future<Void> unregistered = consumer == null ? Future.succeededFuture() : consumer.unregister();
    return Future.all(unregistered, enqueue(() -> {
      stream.close();
      if (reason != null) {
        emit(new SttEvent.StreamClosed(address, reason, detector.positionMs()));
      }
      return null;
    })).mapEmpty();
  }

  /** Opened but never fed: the gateway that asked gave up (timeout) or went away. */
  boolean unclaimed(long now, long withinMs) {
    return !fed && now - openedAt > withinMs;
  }

  /** The gateway node of the connection this stream serves. */
  String gatewayNode() {
    return spec.gatewayNode();
  }

  @Override
  public String toString() {
    return "SttSession" + Arrays.asList(address, spec.sampleRateHz());
  }
}
