package io.voicemesh.bench;

import com.google.protobuf.ByteString;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.client.GrpcClientRequest;
import io.voicemesh.api.audio.Pcm16;
import io.voicemesh.api.engine.Engines;
import io.voicemesh.api.engine.SpeechSegmenter;
import io.voicemesh.api.engine.SttEngine;
import io.voicemesh.api.engine.SttEngineProvider;
import io.voicemesh.api.engine.SttStream;
import io.voicemesh.api.engine.TtsEngine;
import io.voicemesh.api.engine.TtsEngineProvider;
import io.voicemesh.api.grpc.SpeechWorkers;
import io.voicemesh.api.worker.AudioChunk;
import io.voicemesh.api.worker.CreateSessionRequest;
import io.voicemesh.api.worker.CreateSessionResponse;
import io.voicemesh.api.worker.Endpointing;
import io.voicemesh.api.worker.HealthCheckRequest;
import io.voicemesh.api.worker.HealthCheckResponse;
import io.voicemesh.api.worker.ServingStatus;
import io.voicemesh.api.worker.SpeechEvent;
import io.voicemesh.api.worker.SpeechWorkerGrpcClient;
import io.voicemesh.api.worker.StopSessionRequest;
import io.voicemesh.api.worker.StopSessionResponse;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Figure 8: a {@code voicemesh worker} child JVM over gRPC on loopback. Round trip = a 20 ms audio
 * chunk written → its {@code processed} event read (ack_chunks), which includes recognizing it.
 * Paced: sessions streaming at real time, as the mesh does. Flood: sessions keeping a window of
 * chunks in flight, for messages per second. Baseline: the same chunks through the same
 * recognizer and segmenter in this process, without gRPC.
 */
final class WorkerRoundTrip {
  private static final int CHUNK_MS = 20;
  private static final int RATE = Pcm16.DEFAULT_RATE_HZ;
  private static final int FLOOD_WINDOW = 16;

  record Result(LatencyRecorder.Percentiles paced, double pacedPerSecond, double floodPerSecond,
      LatencyRecorder.Percentiles embedded, double embeddedPerSecond) {
  }

  private final byte[] speech;
  private final int chunkBytes = Pcm16.bytesFor(RATE, CHUNK_MS);

  WorkerRoundTrip() throws Exception {
    TtsEngine tts = Engines.create(TtsEngineProvider.class, "freetts", null, new JsonObject().put("voices", 1));
    try {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      tts.synthesize("calculate eight times nine", "kevin16", out::writeBytes, () -> false);
      out.write(new byte[Pcm16.bytesFor(RATE, 400)]);
      byte[] pcm = out.toByteArray();
      speech = Arrays.copyOf(pcm, pcm.length / chunkBytes * chunkBytes);
    } finally {
      tts.close();
    }
  }

  Result measure(Path jar, Path workDir, int sessions, int seconds) throws Exception {
    int port = ReadyTime.freePort();
    Process worker = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Dvertx.cacheDirBase=" + workDir.resolve("vertx-cache"), "-jar", jar.toString(), "worker",
        "--host", "127.0.0.1", "--grpc-port", Integer.toString(port), "--max-sessions", Integer.toString(sessions + 4),
        "--data-dir", Files.createDirectories(workDir.resolve("worker-data")).toString())
        .redirectErrorStream(true).redirectOutput(workDir.resolve("worker.log").toFile()).start();
    Vertx vertx = Vertx.vertx();
    GrpcClient client = GrpcClient.client(vertx, new HttpClientOptions().setProtocolVersion(HttpVersion.HTTP_2)
        .setHttp2ClearTextUpgrade(false));
    SocketAddress address = SocketAddress.inetSocketAddress(port, "127.0.0.1");
    try {
      awaitHealthy(client, address, worker);
      System.out.println("  worker pid " + worker.pid() + " on 127.0.0.1:" + port);
      run(vertx, client, address, Math.min(2, sessions), 2, false, new LatencyRecorder()); // warm-up: JIT, model pages
      LatencyRecorder paced = new LatencyRecorder();
      double pacedRate = run(vertx, client, address, sessions, seconds, false, paced);
      double floodRate = run(vertx, client, address, 4, seconds, true, new LatencyRecorder());
      LatencyRecorder embedded = new LatencyRecorder();
      double embeddedRate = embedded(workDir, seconds, embedded);
      return new Result(paced.percentiles(), pacedRate, floodRate, embedded.percentiles(), embeddedRate);
    } finally {
      client.close().await(5, TimeUnit.SECONDS);
      vertx.close().await(10, TimeUnit.SECONDS);
      worker.destroy();
      if (!worker.waitFor(15, TimeUnit.SECONDS)) {
        worker.destroyForcibly();
      }
    }
  }

  private static void awaitHealthy(GrpcClient client, SocketAddress address, Process worker) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
    while (System.nanoTime() < deadline) {
      if (!worker.isAlive()) {
        throw new IllegalStateException("the worker exited with " + worker.exitValue());
      }
      try {
        HealthCheckResponse health = SpeechWorkers.<HealthCheckRequest, HealthCheckResponse>unary(client, address,
            SpeechWorkerGrpcClient.HealthCheck, HealthCheckRequest.getDefaultInstance(), 2000)
            .await(5, TimeUnit.SECONDS);
        if (health.getStatus() == ServingStatus.OK) {
          return;
        }
      } catch (Exception notYet) {
        // still starting
      }
      TimeUnit.MILLISECONDS.sleep(100);
    }
    throw new IllegalStateException("the worker was not healthy within 2 minutes");
  }

  /**
   * {@code sessions} streams for {@code seconds}: paced at one chunk per 20 ms each, or (flood)
   * each keeping {@link #FLOOD_WINDOW} chunks unacknowledged. Returns acknowledged chunks per second.
   */
  private double run(Vertx vertx, GrpcClient client, SocketAddress address, int sessions, int seconds, boolean flood,
      LatencyRecorder latency) throws Exception {
    AtomicLong acked = new AtomicLong();
    List<Stream> streams = new ArrayList<>();
    for (int i = 0; i < sessions; i++) {
      // Sessions at different points of the phrase, as real callers are: not all finishing an utterance at once.
      streams.add(open(client, address, latency, acked, i * (speech.length / chunkBytes) / sessions));
    }
    latency.start();
    long started = System.nanoTime();
    List<Long> timers = new ArrayList<>();
    for (Stream stream : streams) {
      if (flood) {
        stream.onAck = stream::fill;
        vertx.runOnContext(v -> stream.fill());
      } else {
        timers.add(vertx.setPeriodic(CHUNK_MS, id -> stream.send()));
      }
    }
    TimeUnit.SECONDS.sleep(seconds); // the measuring window itself
    timers.forEach(vertx::cancelTimer);
    streams.forEach(stream -> stream.onAck = () -> { });
    latency.stop();
    double perSecond = acked.get() / ((System.nanoTime() - started) / 1e9);
    for (Stream stream : streams) {
      stream.call.end();
      SpeechWorkers.<StopSessionRequest, StopSessionResponse>unary(client, address, SpeechWorkerGrpcClient.StopSession,
          StopSessionRequest.newBuilder().setSessionId(stream.id).build(), 5000).await(10, TimeUnit.SECONDS);
    }
    return perSecond;
  }

  /** One worker session and its ProcessAudio stream. */
  private final class Stream {
    final GrpcClientRequest<AudioChunk, SpeechEvent> call;
    final String id;
    /** Where in the phrase this stream starts. */
    final int phase;
    final long[] sentAt = new long[1 << 20];
    long seq;
    long acked;
    Runnable onAck = () -> { };

    Stream(GrpcClientRequest<AudioChunk, SpeechEvent> call, String id, int phase) {
      this.call = call;
      this.id = id;
      this.phase = phase;
    }

    synchronized void send() {
      int chunks = speech.length / chunkBytes;
      int at = (int) ((seq + phase) % chunks);
      sentAt[(int) (seq % sentAt.length)] = System.nanoTime();
      call.write(AudioChunk.newBuilder().setSessionId(id).setSeq(seq).setTimestampMs(seq * CHUNK_MS)
          .setAudio(ByteString.copyFrom(speech, at * chunkBytes, chunkBytes)).setEndOfUtterance(at == chunks - 1).build());
      seq++;
    }

    synchronized void fill() {
      while (seq - acked < FLOOD_WINDOW) {
        send();
      }
    }
  }

  private Stream open(GrpcClient client, SocketAddress address, LatencyRecorder latency, AtomicLong acked, int phase)
      throws Exception {
    String id = UUID.randomUUID().toString();
    SpeechWorkers.<CreateSessionRequest, CreateSessionResponse>unary(client, address, SpeechWorkerGrpcClient.CreateSession,
        CreateSessionRequest.newBuilder().setSessionId(id).setSampleRateHz(RATE)
            .setEndpointing(Endpointing.ENDPOINTING_CLIENT).setAckChunks(true).build(), 5000)
        .await(10, TimeUnit.SECONDS);
    GrpcClientRequest<AudioChunk, SpeechEvent> call = client.request(address, SpeechWorkerGrpcClient.ProcessAudio)
        .await(10, TimeUnit.SECONDS);
    Stream stream = new Stream(call, id, phase);
    Future<?> listening = call.response().onSuccess(response -> response.handler(event -> {
      if (event.hasProcessed()) {
        latency.record(System.nanoTime() - stream.sentAt[(int) (event.getSeq() % stream.sentAt.length)]);
        acked.incrementAndGet();
        synchronized (stream) {
          stream.acked = event.getSeq() + 1;
        }
        stream.onAck.run();
      }
    }));
    listening.onFailure(e -> System.out.println("  stream failed: " + e));
    return stream;
  }

  /** The baseline: the same 20 ms chunks through Vosk and the segmenter in this process, one after another. */
  private double embedded(Path workDir, int seconds, LatencyRecorder latency) throws Exception {
    SttEngine engine = Engines.create(SttEngineProvider.class, "vosk", null,
        new JsonObject().put("modelCacheDir", workDir.resolve("worker-data").resolve("models").toString()));
    try (SttStream recognizer = engine.open(RATE)) {
      SpeechSegmenter segmenter = new SpeechSegmenter(recognizer, RATE, 300, 600, false, (text, audioMs, speechStartMs, speechEndMs) -> { });
      int chunks = speech.length / chunkBytes;
      long count = 0;
      latency.start();
      long started = System.nanoTime();
      long end = started + TimeUnit.SECONDS.toNanos(seconds);
      while (System.nanoTime() < end) {
        int at = (int) (count++ % chunks);
        long t = System.nanoTime();
        segmenter.accept(Arrays.copyOfRange(speech, at * chunkBytes, (at + 1) * chunkBytes));
        if (at == chunks - 1) {
          segmenter.endUtterance();
        }
        latency.record(System.nanoTime() - t);
      }
      latency.stop();
      return count / ((System.nanoTime() - started) / 1e9);
    } finally {
      engine.close();
    }
  }
}
