package io.voicemesh.launcher.worker;

import com.google.protobuf.ByteString;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.server.GrpcServer;
import io.vertx.grpc.server.GrpcServerOptions;
import io.vertx.grpc.server.GrpcServerRequest;
import io.voicemesh.api.audio.Pcm16;
import io.voicemesh.api.audio.Resampler;
import io.voicemesh.api.audio.Reframer;
import io.voicemesh.api.engine.Engines;
import io.voicemesh.api.engine.SttEngine;
import io.voicemesh.api.engine.SttEngineProvider;
import io.voicemesh.api.engine.TtsEngine;
import io.voicemesh.api.engine.TtsEngineProvider;
import io.voicemesh.api.grpc.SpeechWorkers;
import io.voicemesh.api.worker.AudioChunk;
import io.voicemesh.api.worker.AudioFormat;
import io.voicemesh.api.worker.CreateSessionRequest;
import io.voicemesh.api.worker.CreateSessionResponse;
import io.voicemesh.api.worker.Encoding;
import io.voicemesh.api.worker.Endpointing;
import io.voicemesh.api.worker.HealthCheckResponse;
import io.voicemesh.api.worker.ServingStatus;
import io.voicemesh.api.worker.SpeechEvent;
import io.voicemesh.api.worker.SpeechWorkerGrpcService;
import io.voicemesh.api.worker.StopSessionResponse;
import io.voicemesh.api.worker.SynthesizeRequest;
import io.voicemesh.api.worker.SynthesizedAudio;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code voicemesh worker}: the node's embedded engines served over speech_worker.proto, for a
 * mesh (its {@code grpc} engines) or any other client. Sessions are limited in number and in the
 * audio each may have waiting; a shutdown ({@link #drain}) refuses new work and lets open streams
 * finish within a bound. With a token every call must carry it ({@link TokenCheck}); with a
 * certificate it serves only TLS (HTTP/2 by ALPN).
 */
public final class SpeechWorkerVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(SpeechWorkerVerticle.class);
  static final int MAX_TEXT_CHARS = 2_000;
  private static final int MIN_RATE_HZ = 8_000;
  private static final int MAX_RATE_HZ = 48_000;

  private final WorkerSettings settings;
  private final Map<String, WorkerSession> sessions = new HashMap<>();
  /** Sessions whose recognizer is being created: they count against the maximum already. */
  private final Set<String> opening = new HashSet<>();
  /** Running Synthesize calls (their cancel flags); a drain waits for them or cuts them off. */
  private final Set<AtomicBoolean> syntheses = new HashSet<>();
  /** Those of them without a session of their own: each counts as a session. */
  private int standaloneSyntheses;
  private final long startedAt = System.currentTimeMillis();
  private long sessionsTotal;
  private long synthesesTotal;
  private volatile boolean draining;
  private WorkerExecutor pool;
  private Executor serialPool;
  private SttEngine stt;
  private TtsEngine tts;
  private HttpServer server;

  public SpeechWorkerVerticle(WorkerSettings settings) {
    this.settings = settings;
  }

  @Override
  public Future<?> start() {
    pool = vertx.createSharedWorkerExecutor("voicemesh-worker", settings.workerThreads());
    serialPool = task -> pool.executeBlocking(() -> {
      task.run();
      return null;
    }, false);
    GrpcServer grpc = GrpcServer.server(vertx, new GrpcServerOptions().setMaxMessageSize(SpeechWorkers.MAX_MESSAGE_BYTES));
    grpc.callHandler(SpeechWorkerGrpcService.CreateSession, call -> unary(call, this::createSession));
    grpc.callHandler(SpeechWorkerGrpcService.StopSession, call -> unary(call, request -> stopSession(request.getSessionId())));
    grpc.callHandler(SpeechWorkerGrpcService.HealthCheck, call -> unary(call, request -> Future.succeededFuture(health())));
    grpc.callHandler(SpeechWorkerGrpcService.ProcessAudio, this::processAudio);
    grpc.callHandler(SpeechWorkerGrpcService.Synthesize, this::synthesize);
    return pool.executeBlocking(() -> Engines.create(SttEngineProvider.class, settings.sttEngine(), vertx, settings.sttConfig()))
        .compose(created -> {
          stt = created;
          return pool.executeBlocking(() -> Engines.create(TtsEngineProvider.class, settings.ttsEngine(), vertx,
              settings.ttsConfig()));
        })
        .compose(created -> {
          tts = created;
          vertx.setPeriodic(Math.max(1000, settings.idleTimeoutMs() / 4), id -> closeIdle());
          Handler<HttpServerRequest> calls = settings.access().authenticates()
              ? new TokenCheck(settings.access().authToken(), grpc) : grpc;
          server = vertx.createHttpServer(serverOptions()).requestHandler(calls);
          return server.listen();
        })
        .onSuccess(listening -> {
          LOG.info("speech worker {} serves {} and {} on {}:{} ({}; at most {} sessions)", settings.workerId(),
              settings.sttEngine(), settings.ttsEngine(), settings.host(), listening.actualPort(), settings.access(),
              settings.maxSessions());
          if (!WorkerAccess.isLoopback(settings.host()) && !settings.access().tls()) {
            LOG.warn("speech worker {} listens on {} in plaintext: audio, text{} cross the network unencrypted "
                + "(--tls-cert and --tls-key turn TLS on)", settings.workerId(), settings.host(),
                settings.access().authenticates() ? " and the token" : "");
          }
        });
  }

  private HttpServerOptions serverOptions() {
    HttpServerOptions options = new HttpServerOptions().setHost(settings.host()).setPort(settings.grpcPort());
    if (settings.access().tls()) {
      options.setSsl(true).setUseAlpn(true).setKeyCertOptions(new PemKeyCertOptions()
          .setCertPath(settings.access().tlsCertFile()).setKeyPath(settings.access().tlsKeyFile()));
    }
    return options;
  }

  /** The port gRPC listens on (the configured one, or the one picked for port 0). */
  public int port() {
    return server.actualPort();
  }

  private int active() {
    return sessions.size() + opening.size() + standaloneSyntheses;
  }

  private static <Q, R> void unary(GrpcServerRequest<Q, R> call, Function<Q, Future<R>> handler) {
    call.last().compose(handler).onComplete(answer -> {
      if (answer.succeeded()) {
        try {
          call.response().end(answer.result());
        } catch (IllegalStateException callerGone) {
          // cancelled or timed out by the caller meanwhile: there is no one to answer
        }
      } else {
        Status.fail(call.response(), answer.cause());
      }
    });
  }

  // ---- sessions ----------------------------------------------------------------------------

  private Future<CreateSessionResponse> createSession(CreateSessionRequest request) {
    String id = request.getSessionId();
    int rate = request.getSampleRateHz() == 0 ? Pcm16.DEFAULT_RATE_HZ : request.getSampleRateHz();
    int silenceMs = request.getSilenceMs() == 0 ? 600 : request.getSilenceMs();
    int minSpeechMs = request.getMinSpeechMs() == 0 ? 300 : request.getMinSpeechMs();
    if (draining) {
      return Future.failedFuture(Status.of(GrpcStatus.UNAVAILABLE, "worker " + settings.workerId() + " is shutting down"));
    } else if (id.isBlank() || id.length() > 200) {
      return Future.failedFuture(Status.of(GrpcStatus.INVALID_ARGUMENT, "session_id is required (at most 200 characters)"));
    } else if (rate < MIN_RATE_HZ || rate > MAX_RATE_HZ) {
      return Future.failedFuture(Status.of(GrpcStatus.INVALID_ARGUMENT,
          "sample_rate_hz must be " + MIN_RATE_HZ + " to " + MAX_RATE_HZ + ", got " + rate));
    } else if (silenceMs < 100 || silenceMs > 10_000 || minSpeechMs < 20 || minSpeechMs > 5_000
        || request.getMinSilenceMs() > 10_000) {
      return Future.failedFuture(Status.of(GrpcStatus.INVALID_ARGUMENT,
          "silence_ms must be 100 to 10000, min_silence_ms at most 10000 and min_speech_ms 20 to 5000"));
    } else if (!speaksLanguage(request.getLanguage())) {
      return Future.failedFuture(Status.of(GrpcStatus.INVALID_ARGUMENT, "language '" + request.getLanguage()
          + "' is not available; this worker recognizes " + settings.language()));
    } else if (sessions.containsKey(id) || opening.contains(id)) {
      return Future.failedFuture(Status.of(GrpcStatus.ALREADY_EXISTS, "session " + id + " exists on this worker"));
    } else if (active() >= settings.maxSessions()) {
      return Future.failedFuture(Status.of(GrpcStatus.RESOURCE_EXHAUSTED, "worker " + settings.workerId()
          + " serves its maximum of " + settings.maxSessions() + " sessions"));
    }
    WorkerSession.Spec spec = new WorkerSession.Spec(id, rate, request.getEndpointing() == Endpointing.ENDPOINTING_AUTO,
        silenceMs, minSpeechMs, request.getAckChunks(), request.getVoice(), request.getMinSilenceMs());
    opening.add(id);
    return pool.executeBlocking(() -> stt.open(rate))
        .andThen(done -> opening.remove(id))
        .compose(recognizer -> {
          if (draining) {
            // The drain took its list of sessions while this one was opening: it will not be stopped.
            pool.executeBlocking(() -> {
              recognizer.close();
              return null;
            });
            return Future.failedFuture(Status.of(GrpcStatus.UNAVAILABLE, "worker " + settings.workerId() + " is shutting down"));
          }
          WorkerSession session = new WorkerSession(spec, settings, context, recognizer, serialPool,
              ended -> sessions.remove(id, ended));
          sessions.put(id, session);
          sessionsTotal++;
          return Future.succeededFuture(CreateSessionResponse.newBuilder().setWorkerId(settings.workerId())
              .setInputFormat(format(rate)).setOutputFormat(format(tts.sampleRateHz()))
              .setMaxBufferBytes(settings.maxBufferBytes()).setReorderWindow(settings.reorderWindow())
              .setLanguage(settings.language()).build());
        });
  }

  private boolean speaksLanguage(String language) {
    String wanted = language.toLowerCase(Locale.ROOT);
    String own = settings.language().toLowerCase(Locale.ROOT);
    return wanted.isEmpty() || wanted.equals(own) || own.startsWith(wanted + "-");
  }

  private static AudioFormat format(int rate) {
    return AudioFormat.newBuilder().setEncoding(Encoding.PCM16LE).setSampleRateHz(rate).setChannels(1).build();
  }

  private Future<StopSessionResponse> stopSession(String id) {
    WorkerSession session = sessions.get(id);
    if (session == null) {
      return Future.failedFuture(Status.of(GrpcStatus.NOT_FOUND, "no session " + id + " on this worker"));
    }
    return session.stop(GrpcStatus.OK, null);
  }

  private void processAudio(GrpcServerRequest<AudioChunk, SpeechEvent> call) {
    if (draining) {
      Status.end(call.response(), GrpcStatus.UNAVAILABLE, "worker " + settings.workerId() + " is shutting down");
      return;
    }
    WorkerSession[] bound = {null};
    call.handler(chunk -> {
      if (bound[0] == null) {
        WorkerSession session = sessions.get(chunk.getSessionId());
        if (session == null) {
          Status.end(call.response(), GrpcStatus.NOT_FOUND, "no session '" + chunk.getSessionId()
              + "' on this worker; call CreateSession first");
          return;
        }
        session.attach(call);
        bound[0] = session;
      } else if (!bound[0].boundTo(call)) {
        return; // another stream took the session; this one was ended with ABORTED
      } else if (!chunk.getSessionId().isEmpty() && !chunk.getSessionId().equals(bound[0].spec().id())) {
        bound[0].fail(GrpcStatus.INVALID_ARGUMENT, "a ProcessAudio stream carries one session: "
            + bound[0].spec().id() + ", not " + chunk.getSessionId());
        return;
      }
      bound[0].receive(chunk);
    });
    call.endHandler(v -> {
      if (bound[0] != null) {
        bound[0].halfClosed(call);
      } else {
        Status.end(call.response(), GrpcStatus.OK, null);
      }
    });
    call.exceptionHandler(e -> {
      if (bound[0] != null) {
        bound[0].lost(call);
      }
    });
  }

  private void closeIdle() {
    long now = System.currentTimeMillis();
    List.copyOf(sessions.values()).stream().filter(s -> s.idleMs(now) > settings.idleTimeoutMs()).forEach(session -> {
      LOG.info("session {}: no stream for {} ms, ended", session.spec().id(), session.idleMs(now));
      session.end();
    });
  }

  // ---- synthesis ---------------------------------------------------------------------------

  private void synthesize(GrpcServerRequest<SynthesizeRequest, SynthesizedAudio> call) {
    AtomicBoolean cancelled = new AtomicBoolean();
    call.exceptionHandler(e -> cancelled.set(true));
    call.response().exceptionHandler(e -> cancelled.set(true));
    call.last().onFailure(e -> cancelled.set(true)).onSuccess(request -> {
      String text = request.getText();
      int rate = request.getSampleRateHz();
      WorkerSession session = request.getSessionId().isEmpty() ? null : sessions.get(request.getSessionId());
      String failure = text.isBlank() || text.length() > MAX_TEXT_CHARS ? "text must have 1 to " + MAX_TEXT_CHARS + " characters"
          : rate != 0 && (rate < MIN_RATE_HZ || rate > MAX_RATE_HZ) ? "sample_rate_hz must be 0 or " + MIN_RATE_HZ + " to " + MAX_RATE_HZ
          : null;
      if (draining) {
        Status.end(call.response(), GrpcStatus.UNAVAILABLE, "worker " + settings.workerId() + " is shutting down");
      } else if (failure != null) {
        Status.end(call.response(), GrpcStatus.INVALID_ARGUMENT, failure);
      } else if (!request.getSessionId().isEmpty() && session == null) {
        Status.end(call.response(), GrpcStatus.NOT_FOUND, "no session " + request.getSessionId() + " on this worker");
      } else if (session == null && active() >= settings.maxSessions()) {
        Status.end(call.response(), GrpcStatus.RESOURCE_EXHAUSTED, "worker " + settings.workerId()
            + " serves its maximum of " + settings.maxSessions() + " sessions");
      } else {
        String voice = !request.getVoice().isEmpty() ? request.getVoice() : session != null ? session.spec().voice() : "";
        speak(call, text, voice.isEmpty() ? null : voice, rate == 0 ? tts.sampleRateHz() : rate, session == null, cancelled);
      }
    });
  }

  private void speak(GrpcServerRequest<SynthesizeRequest, SynthesizedAudio> call, String text, String voice, int rate,
      boolean countsAsSession, AtomicBoolean cancelled) {
    syntheses.add(cancelled);
    if (countsAsSession) {
      standaloneSyntheses++;
    }
    int engineRate = tts.sampleRateHz();
    long[] sent = {0, 0}; // chunks, bytes
    java.util.function.Consumer<byte[]> sendChunk = chunk -> {
      SynthesizedAudio audio = SynthesizedAudio.newBuilder().setSeq(sent[0]++).setTimestampMs(Pcm16.msFor(rate, sent[1]))
          .setAudio(ByteString.copyFrom(chunk)).setSampleRateHz(rate).build();
      sent[1] += chunk.length;
      context.runOnContext(v -> {
        if (!cancelled.get()) {
          call.response().write(audio);
        }
      });
    };
    Reframer chunker = new Reframer(Pcm16.bytesFor(rate, settings.chunkMs()), sendChunk);
    Future<Void> spoken = pool.executeBlocking(() -> {
      // One resampler for the whole answer: its filter runs across the engine's chunks.
      Resampler resampler = new Resampler(engineRate, rate);
      tts.synthesize(text, voice, pcm -> chunker.accept(resampler.process(pcm)), cancelled::get);
      chunker.accept(resampler.flush());
      byte[] rest = chunker.remainder();
      if (rest.length > 0 && !cancelled.get()) {
        sendChunk.accept(rest);
      }
      return null;
    });
    spoken.onComplete(done -> {
      syntheses.remove(cancelled);
      if (countsAsSession) {
        standaloneSyntheses--;
      }
      if (cancelled.get()) {
        Status.end(call.response(), GrpcStatus.UNAVAILABLE, draining ? "worker " + settings.workerId()
            + " is shutting down" : "cancelled");
      } else if (done.succeeded()) {
        synthesesTotal++;
        Status.end(call.response(), GrpcStatus.OK, null);
      } else {
        LOG.warn("synthesis failed: {}", done.cause().toString());
        Status.fail(call.response(), done.cause());
      }
    });
  }

  // ---- health and shutdown -----------------------------------------------------------------

  private HealthCheckResponse health() {
    Runtime runtime = Runtime.getRuntime();
    ServingStatus status = draining ? ServingStatus.UNHEALTHY
        : active() >= settings.maxSessions() ? ServingStatus.DEGRADED : ServingStatus.OK;
    String detail = draining ? "shutting down"
        : status == ServingStatus.DEGRADED ? "serving its maximum of " + settings.maxSessions() + " sessions" : "";
    return HealthCheckResponse.newBuilder().setStatus(status).setActiveSessions(active())
        .setMaxSessions(settings.maxSessions()).setMemoryUsedBytes(runtime.totalMemory() - runtime.freeMemory())
        .setMemoryMaxBytes(runtime.maxMemory()).setUptimeMs(System.currentTimeMillis() - startedAt)
        .setWorkerId(settings.workerId()).setDetail(detail)
        .addEngines("stt:" + settings.sttEngine()).addEngines("tts:" + settings.ttsEngine())
        .setSessionsTotal(sessionsTotal).setSynthesesTotal(synthesesTotal).build();
  }

  /**
   * Stops taking work (new calls get UNAVAILABLE, health says UNHEALTHY), lets each open stream
   * finish its queued audio and end with UNAVAILABLE so its client moves elsewhere, and waits for
   * running syntheses; whatever is still open after {@code settings.drainMs()} is cut off.
   */
  public Future<Void> drain() {
    Promise<Void> drained = Promise.promise();
    context.runOnContext(v -> {
      draining = true;
      LOG.info("speech worker {} draining: {} sessions, {} syntheses", settings.workerId(), sessions.size(), syntheses.size());
      List<Future<?>> closing = List.copyOf(sessions.values()).stream()
          .<Future<?>>map(session -> session.stop(GrpcStatus.UNAVAILABLE, "worker " + settings.workerId() + " is shutting down"))
          .toList();
      long deadline = vertx.setTimer(Math.max(1, settings.drainMs()), id -> {
        LOG.warn("drain bound of {} ms reached: cutting off {} sessions and {} syntheses", settings.drainMs(),
            sessions.size(), syntheses.size());
        List.copyOf(sessions.values()).forEach(session -> session.fail(GrpcStatus.UNAVAILABLE, "worker shutting down"));
        syntheses.forEach(flag -> flag.set(true));
        drained.tryComplete();
      });
      Future.join(closing).compose(all -> waitForSyntheses()).onComplete(done -> {
        vertx.cancelTimer(deadline);
        drained.tryComplete();
      });
    });
    return drained.future();
  }

  private Future<Void> waitForSyntheses() {
    if (syntheses.isEmpty()) {
      return Future.succeededFuture();
    }
    Promise<Void> idle = Promise.promise();
    vertx.setPeriodic(20, id -> {
      if (syntheses.isEmpty()) {
        vertx.cancelTimer(id);
        idle.tryComplete();
      }
    });
    return idle.future();
  }

  @Override
  public Future<?> stop() {
    Future<Void> closed = server == null ? Future.succeededFuture() : server.close();
    return closed.eventually(() -> pool.executeBlocking(() -> {
      if (stt != null) {
        stt.close();
      }
      if (tts != null) {
        tts.close();
      }
      return null;
    })).eventually(() -> pool.close());
  }
}
