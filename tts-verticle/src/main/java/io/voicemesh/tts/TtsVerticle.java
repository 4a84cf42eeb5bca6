package io.voicemesh.tts;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import io.voicemesh.api.Addresses;
import io.voicemesh.api.Bus;
import io.voicemesh.api.Drainable;
import io.voicemesh.api.ErrorCode;
import io.voicemesh.api.MeshException;
import io.voicemesh.api.MeshMetrics;
import io.voicemesh.api.Role;
import io.voicemesh.api.audio.Pcm16;
import io.voicemesh.api.audio.Resampler;
import io.voicemesh.api.audio.Reframer;
import io.voicemesh.api.engine.EngineUnavailableException;
import io.voicemesh.api.engine.Engines;
import io.voicemesh.api.engine.TtsEngine;
import io.voicemesh.api.engine.TtsEngineProvider;
import io.voicemesh.api.message.AudioChunkHeader;
import io.voicemesh.api.message.RoleStatus;
import io.voicemesh.api.message.SynthesizeDone;
import io.voicemesh.api.message.SynthesizeRequest;
import io.voicemesh.api.message.TurnCancel;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The text-to-speech role: one sentence per {@code tts.synthesize} request, streamed back as
 * PCM16LE chunks of at most {@code chunkMs} as the engine produces them.
 *
 * <p>Config: {@code engine} (default {@code freetts}) and an object of that name with its settings;
 * {@code fallbackEngine} (an embedded engine that speaks while a remote engine's workers are
 * unavailable, with its settings under its name; empty for none);
 * {@code chunkMs} (default 100); {@code workerThreads} (default 2); {@code capacity} (queued and
 * running sentences, default 200); {@code node}.
 *
 * <p>{@link #drain}: the node is stopping. It stops taking sentences (gateways reach other TTS
 * nodes) and finishes the ones it has.
 */
public final class TtsVerticle extends VerticleBase implements Drainable {
  private static final Logger LOG = LoggerFactory.getLogger(TtsVerticle.class);
  static final int MAX_SENTENCE_CHARS = 2_000;
  private static final long CANCEL_MEMORY_MS = 60_000;

  /** Turns cancelled recently, with when: syntheses of them stop or never start. */
  private final Map<String, Long> cancelledTurns = new ConcurrentHashMap<>();
  private final AtomicInteger active = new AtomicInteger();
  private WorkerExecutor worker;
  private TtsEngine engine;
  /** The embedded engine a remote one falls back to; null without one. */
  private TtsEngine fallback;
  private String fallbackName;
  private int chunkMs;
  private int capacity;
  private String node;
  private MessageConsumer<Object> synthesizer;
  /** Set while draining: completed once no sentence is queued or running here. */
  private Promise<Void> idle;

  @Override
  public Future<?> start() {
    String engineName = config().getString("engine", "freetts");
    JsonObject engineConfig = config().getJsonObject(engineName, new JsonObject());
    chunkMs = config().getInteger("chunkMs", 100);
    capacity = config().getInteger("capacity", 200);
    node = config().getString("node", "local");
    worker = vertx.createSharedWorkerExecutor("voicemesh-tts", config().getInteger("workerThreads", 2));
    MeshMetrics.sessions(Role.TTS, node, active::get);
    vertx.setPeriodic(CANCEL_MEMORY_MS, id -> {
      long cutoff = System.currentTimeMillis() - CANCEL_MEMORY_MS;
      cancelledTurns.values().removeIf(at -> at < cutoff);
    });
    fallbackName = config().getString("fallbackEngine", "");
    return worker.executeBlocking(() -> Engines.create(TtsEngineProvider.class, engineName, vertx, engineConfig))
        .compose(created -> {
          engine = created;
          return worker.executeBlocking(() -> Engines.createFallback(TtsEngineProvider.class, engineName, vertx, config()));
        })
        .compose(embedded -> {
          fallback = embedded;
          EventBus bus = vertx.eventBus();
          synthesizer = Bus.serve(bus, Addresses.TTS_SYNTHESIZE, SynthesizeRequest.class, this::synthesize);
          List<MessageConsumer<Object>> consumers = new ArrayList<>(List.of(
              synthesizer,
              Bus.serve(bus, Addresses.TTS_CANCEL, TurnCancel.class, cancel -> {
                cancelledTurns.put(cancel.turnId(), System.currentTimeMillis());
                return Future.succeededFuture();
              })));
          consumers.addAll(Bus.serveStatus(bus, Role.TTS,
              () -> Future.succeededFuture(new RoleStatus(Role.TTS.id(), node, true, active.get(), capacity, engine.workers()))));
          return Future.all(consumers.stream().map(MessageConsumer::completion).toList());
        });
  }

  private Future<SynthesizeDone> synthesize(SynthesizeRequest request) {
    if (request.text() == null || request.text().isBlank() || request.text().length() > MAX_SENTENCE_CHARS
        || request.replyAddress() == null || request.turnId() == null) {
      return Future.failedFuture(new MeshException(ErrorCode.BAD_REQUEST,
          "tts.synthesize needs turnId, replyAddress and 1 to " + MAX_SENTENCE_CHARS + " characters of text"));
    }
    if (idle != null) {
      return Future.failedFuture(new MeshException(ErrorCode.CAPACITY, "this TTS node is stopping"));
    }
    if (active.get() >= capacity) {
      return Future.failedFuture(new MeshException(ErrorCode.CAPACITY, "this TTS node has " + capacity + " sentences queued"));
    }
    active.incrementAndGet();
    return worker.executeBlocking(() -> speak(request)).eventually(() -> {
      active.decrementAndGet();
      // After this task, so the sentence's reply is sent before a draining node counts it as done.
      context.runOnContext(v -> settleIfIdle());
      return Future.succeededFuture();
    });
  }

  /** Stops taking sentences; completes when the queued and running ones are done, or at the deadline. */
  @Override
  public Future<Void> drain(long deadlineMillis) {
    Promise<Void> drained = Promise.promise();
    context.runOnContext(v -> {
      if (idle == null) {
        idle = Promise.promise();
        Future<Void> closed = synthesizer == null ? Future.succeededFuture() : synthesizer.unregister();
        long timer = vertx.setTimer(Math.max(1, deadlineMillis - System.currentTimeMillis()), t -> idle.tryComplete());
        closed.onComplete(unregistered -> settleIfIdle());
        idle.future().onComplete(done -> vertx.cancelTimer(timer));
      }
      idle.future().onComplete(drained);
    });
    return drained.future();
  }

  private void settleIfIdle() {
    if (idle != null && active.get() == 0) {
      idle.tryComplete();
    }
  }

  /** Runs on a worker: synthesizes and sends fixed-size chunks as audio comes out of the engine. */
  private SynthesizeDone speak(SynthesizeRequest request) throws Exception {
    int rate = engine.sampleRateHz();
    ChunkSender sender = new ChunkSender(vertx.eventBus(), request, rate, Pcm16.bytesFor(rate, chunkMs), node);
    BooleanSupplier cancelled = () -> cancelledTurns.containsKey(request.turnId());
    String warning = null;
    if (cancelled.getAsBoolean()) {
      // nothing to say any more
    } else if (fallback == null) {
      sender.wordEndsMs = engine.synthesizeTimed(request.text(), request.voice(), sender::accept, cancelled);
    } else {
      warning = speakOrFallBack(request, sender, cancelled);
    }
    sender.flush();
    return new SynthesizeDone(sender.chunks, rate, Pcm16.msFor(rate, sender.totalBytes), node, warning,
        sender.wordEndsMs);
  }

  /**
   * The remote engine when it can, else the embedded one: from the start, or from where the lost
   * worker stopped (the audio already sent is skipped). Returns the warning for the session, if any.
   * The skip is by duration: exact when the worker runs the same engine, as {@code voicemesh worker}
   * does; with another engine the sentence resumes near, not at, the same word.
   */
  private String speakOrFallBack(SynthesizeRequest request, ChunkSender sender, BooleanSupplier cancelled)
      throws Exception {
    String reason = "no speech worker is healthy";
    if (engine.available()) {
      try {
        sender.wordEndsMs = engine.synthesizeTimed(request.text(), request.voice(), sender::accept, cancelled);
        return null;
      } catch (EngineUnavailableException e) {
        reason = e.getMessage();
      }
    }
    long[] skip = {sender.acceptedBytes};
    Resampler resampler = new Resampler(fallback.sampleRateHz(), engine.sampleRateHz());
    java.util.function.Consumer<byte[]> resumed = audio -> {
      int drop = (int) Math.min(skip[0], audio.length);
      skip[0] -= drop;
      if (drop < audio.length) {
        sender.accept(java.util.Arrays.copyOfRange(audio, drop, audio.length));
      }
    };
    fallback.synthesize(request.text(), request.voice(), pcm -> resumed.accept(resampler.process(pcm)), cancelled);
    resumed.accept(resampler.flush());
    String message = "speech worker unavailable (" + reason + "); the embedded " + fallbackName
        + " engine spoke sentence " + request.sentence();
    LOG.warn("turn {}: {}", request.turnId(), message);
    return message;
  }

  /** Sends the engine's output as chunks of exactly {@code chunkBytes} (the last may be shorter). */
  private static final class ChunkSender {
    private final EventBus bus;
    private final SynthesizeRequest request;
    private final int rate;
    private final String node;
    private final Reframer chunker;
    private int chunks;
    private long totalBytes;
    /** Bytes the engine handed over so far, including what waits for a full chunk. */
    private long acceptedBytes;
    /** When each word ended, as the engine says; empty when it cannot tell (or two engines spoke the sentence). */
    private List<Long> wordEndsMs = List.of();

    ChunkSender(EventBus bus, SynthesizeRequest request, int rate, int chunkBytes, String node) {
      this.bus = bus;
      this.request = request;
      this.rate = rate;
      this.node = node;
      this.chunker = new Reframer(chunkBytes, this::send);
    }

    void accept(byte[] pcm) {
      acceptedBytes += pcm.length;
      chunker.accept(pcm);
    }

    void flush() {
      byte[] rest = chunker.remainder();
      if (rest.length > 0) {
        send(rest);
      }
    }

    private void send(byte[] chunk) {
      totalBytes += chunk.length;
      bus.send(request.replyAddress(), Buffer.buffer(chunk.clone()),
          new AudioChunkHeader(request.turnId(), request.sentence(), chunks++, rate, node).toDeliveryOptions());
    }
  }

  @Override
  public Future<?> stop() {
    return worker.executeBlocking(() -> {
      if (engine != null) {
        engine.close();
      }
      if (fallback != null) {
        fallback.close();
      }
      return null;
    }).eventually(() -> worker.close());
  }
}
