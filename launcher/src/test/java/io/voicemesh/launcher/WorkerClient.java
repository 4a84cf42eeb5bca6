package io.voicemesh.launcher;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.client.GrpcClientRequest;
import io.vertx.grpc.common.GrpcStatus;
import io.voicemesh.api.grpc.SpeechWorkers;
import io.voicemesh.api.grpc.WorkerChannel;
import io.voicemesh.api.grpc.WorkerStatusException;
import io.voicemesh.api.worker.AudioChunk;
import io.voicemesh.api.worker.CreateSessionRequest;
import io.voicemesh.api.worker.CreateSessionResponse;
import io.voicemesh.api.worker.HealthCheckRequest;
import io.voicemesh.api.worker.HealthCheckResponse;
import io.voicemesh.api.worker.SpeechEvent;
import io.voicemesh.api.worker.SpeechWorkerGrpcClient;
import io.voicemesh.api.worker.StopSessionRequest;
import io.voicemesh.api.worker.StopSessionResponse;
import io.voicemesh.api.worker.SynthesizeRequest;
import io.voicemesh.api.worker.SynthesizedAudio;
import com.google.protobuf.ByteString;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/** A plain gRPC client of one speech worker, as a program in any language would be one. */
final class WorkerClient implements AutoCloseable {
  static final Duration CALL = Duration.ofSeconds(10);

  /** How a call or stream ended. */
  record Outcome(GrpcStatus status, String message) {
  }

  private final GrpcClient client;
  private final WorkerChannel channel;
  private final SocketAddress address;

  /** Plaintext, without a token. */
  WorkerClient(Vertx vertx, int port) {
    this(vertx, port, WorkerChannel.PLAINTEXT);
  }

  /** Over {@code channel} (TLS, a token), as the mesh's grpc engines connect. */
  WorkerClient(Vertx vertx, int port, WorkerChannel channel) {
    this.channel = channel;
    this.client = GrpcClient.client(vertx, channel.httpOptions((int) CALL.toMillis()));
    this.address = SocketAddress.inetSocketAddress(port, "127.0.0.1");
  }

  HealthCheckResponse health() throws Exception {
    return await(SpeechWorkers.unary(client, channel, address, SpeechWorkerGrpcClient.HealthCheck,
        HealthCheckRequest.getDefaultInstance(), CALL.toMillis()));
  }

  CreateSessionResponse create(CreateSessionRequest request) throws Exception {
    return await(SpeechWorkers.unary(client, channel, address, SpeechWorkerGrpcClient.CreateSession, request, CALL.toMillis()));
  }

  StopSessionResponse stop(String sessionId) throws Exception {
    return await(SpeechWorkers.unary(client, channel, address, SpeechWorkerGrpcClient.StopSession,
        StopSessionRequest.newBuilder().setSessionId(sessionId).build(), CALL.toMillis()));
  }

  /** The status a unary call failed with; fails the test if it succeeded. */
  static Outcome refusal(ThrowingCall call) {
    try {
      call.run();
    } catch (WorkerStatusException e) {
      return new Outcome(e.status(), e.getMessage());
    } catch (Exception e) {
      throw new AssertionError("expected a gRPC status, got " + e, e);
    }
    throw new AssertionError("the call succeeded");
  }

  interface ThrowingCall {
    void run() throws Exception;
  }

  /** Synthesize: every chunk, and how the stream ended. */
  record Synthesis(List<SynthesizedAudio> chunks, Outcome outcome) {
    byte[] pcm() {
      ByteString all = ByteString.EMPTY;
      for (SynthesizedAudio chunk : chunks) {
        all = all.concat(chunk.getAudio());
      }
      return all.toByteArray();
    }
  }

  Synthesis synthesize(SynthesizeRequest request) throws Exception {
    List<SynthesizedAudio> chunks = new ArrayList<>();
    CompletableFuture<Outcome> ended = new CompletableFuture<>();
    client.request(address, SpeechWorkerGrpcClient.Synthesize)
        .compose(call -> {
          channel.authorize(call.headers());
          return call.end(request).compose(v -> call.response());
        })
        .onSuccess(response -> {
          response.handler(chunk -> {
            synchronized (chunks) {
              chunks.add(chunk);
            }
          });
          response.exceptionHandler(e -> ended.complete(new Outcome(GrpcStatus.UNKNOWN, e.toString())));
          response.endHandler(v -> ended.complete(new Outcome(response.status(), WorkerStatusException.messageOf(response))));
        })
        .onFailure(e -> ended.complete(new Outcome(GrpcStatus.UNAVAILABLE, e.toString())));
    Outcome outcome = ended.get(30, TimeUnit.SECONDS);
    synchronized (chunks) {
      return new Synthesis(List.copyOf(chunks), outcome);
    }
  }

  AudioStream stream() throws Exception {
    GrpcClientRequest<AudioChunk, SpeechEvent> call = await(client.request(address, SpeechWorkerGrpcClient.ProcessAudio));
    channel.authorize(call.headers());
    return new AudioStream(call);
  }

  /** A ProcessAudio stream: chunks out, events collected as they come, and its end status. */
  static final class AudioStream {
    private final GrpcClientRequest<AudioChunk, SpeechEvent> call;
    private final List<SpeechEvent> events = new ArrayList<>();
    private final CompletableFuture<Outcome> ended = new CompletableFuture<>();

    AudioStream(GrpcClientRequest<AudioChunk, SpeechEvent> call) {
      this.call = call;
      call.response().onSuccess(response -> {
        response.handler(this::add);
        response.exceptionHandler(e -> ended.complete(new Outcome(GrpcStatus.UNKNOWN, e.toString())));
        response.endHandler(v -> ended.complete(new Outcome(response.status(), WorkerStatusException.messageOf(response))));
      }).onFailure(e -> ended.complete(new Outcome(GrpcStatus.UNKNOWN, e.toString())));
    }

    private synchronized void add(SpeechEvent event) {
      events.add(event);
      notifyAll();
    }

    void send(AudioChunk chunk) throws Exception {
      WorkerClient.await(call.write(chunk));
    }

    /** Sends {@code pcm} as chunks of {@code chunkMs} from {@code firstSeq} on; returns the next seq. */
    long sendAudio(String sessionId, long firstSeq, byte[] pcm, int rateHz, int chunkMs) throws Exception {
      int step = rateHz * 2 * chunkMs / 1000;
      long seq = firstSeq;
      for (int offset = 0; offset < pcm.length; offset += step) {
        send(chunk(sessionId, seq++, offset * 1000L / (rateHz * 2),
            java.util.Arrays.copyOfRange(pcm, offset, Math.min(pcm.length, offset + step)), false));
      }
      return seq;
    }

    void end() throws Exception {
      WorkerClient.await(call.end());
    }

    synchronized List<SpeechEvent> events() {
      return List.copyOf(events);
    }

    /** Waits for an event matching {@code match}. */
    synchronized SpeechEvent await(Predicate<SpeechEvent> match, Duration timeout) throws InterruptedException {
      long deadline = System.nanoTime() + timeout.toNanos();
      while (true) {
        for (SpeechEvent event : events) {
          if (match.test(event)) {
            return event;
          }
        }
        long left = deadline - System.nanoTime();
        if (left <= 0 || ended.isDone() && events.stream().noneMatch(match)) {
          throw new AssertionError("no such event within " + timeout + "; got " + events + ", ended " + ended.getNow(null));
        }
        wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(Math.min(left, 50_000_000L))));
      }
    }

    Outcome outcome(Duration timeout) throws Exception {
      return ended.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    boolean isEnded() {
      return ended.isDone();
    }
  }

  static AudioChunk chunk(String sessionId, long seq, long timestampMs, byte[] audio, boolean endOfUtterance) {
    return AudioChunk.newBuilder().setSessionId(sessionId).setSeq(seq).setTimestampMs(timestampMs)
        .setAudio(ByteString.copyFrom(audio)).setEndOfUtterance(endOfUtterance).build();
  }

  private static <T> T await(Future<T> future) throws Exception {
    try {
      return future.toCompletionStage().toCompletableFuture().get(CALL.toMillis(), TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.ExecutionException e) {
      throw e.getCause() instanceof Exception cause ? cause : e;
    }
  }

  @Override
  public void close() {
    client.close();
  }
}
