package io.voicemesh.stt;

import io.vertx.core.Future;
import io.vertx.grpc.client.GrpcClientRequest;
import io.vertx.grpc.client.GrpcClientResponse;
import io.vertx.grpc.common.GrpcStatus;
import io.voicemesh.api.engine.EngineUnavailableException;
import io.voicemesh.api.engine.SttEngine;
import io.voicemesh.api.engine.SttStream;
import io.voicemesh.api.grpc.SpeechWorkers;
import io.voicemesh.api.grpc.WorkerStatusException;
import io.voicemesh.api.worker.AudioChunk;
import io.voicemesh.api.worker.CreateSessionRequest;
import io.voicemesh.api.worker.CreateSessionResponse;
import io.voicemesh.api.worker.Endpointing;
import io.voicemesh.api.worker.SpeechEvent;
import io.voicemesh.api.worker.SpeechWorkerGrpcClient;
import io.voicemesh.api.worker.StopSessionRequest;
import io.voicemesh.api.worker.StopSessionResponse;
import io.voicemesh.api.worker.Transcript;
import com.google.protobuf.ByteString;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code grpc}: recognition on remote speech workers (speech_worker.proto). Each stream is a
 * worker session in client endpointing mode: the STT verticle still decides where turns end (the
 * same detector as the embedded engine), the worker only turns audio into words.
 */
final class GrpcSttEngine implements SttEngine {
  private static final Logger LOG = LoggerFactory.getLogger(GrpcSttEngine.class);

  private final SpeechWorkers workers;
  private final String language;
  private final long finalTimeoutMs;

  GrpcSttEngine(SpeechWorkers workers, String language, long finalTimeoutMs) {
    this.workers = workers;
    this.language = language;
    this.finalTimeoutMs = finalTimeoutMs;
  }

  @Override
  public boolean available() {
    return workers.anyOk();
  }

  /** Asks the healthy workers in turn; a full or vanished one passes the session to the next. */
  @Override
  public SttStream open(int sampleRateHz) {
    List<String> refused = new ArrayList<>();
    for (SpeechWorkers.Worker worker : workers.candidates()) {
      try {
        return RemoteStream.open(workers, worker, sampleRateHz, language, finalTimeoutMs);
      } catch (WorkerStatusException e) {
        if (!e.workerUnavailable()) {
          throw e;
        }
        if (e.status() != GrpcStatus.RESOURCE_EXHAUSTED) {
          workers.markDown(worker, e);
        }
        refused.add(worker.name() + ": " + e.getMessage());
      } catch (RuntimeException e) {
        workers.markDown(worker, e);
        refused.add(worker.name() + ": " + e.getMessage());
      }
    }
    throw new EngineUnavailableException(refused.isEmpty() ? "no speech worker is healthy: " + workers.all()
        : "no speech worker took the session (" + String.join("; ", refused) + ")");
  }

  @Override
  public java.util.Map<String, String> workers() {
    return workers.status();
  }

  @Override
  public void close() {
    workers.close();
  }

  /** One worker session and its ProcessAudio stream. */
  private static final class RemoteStream implements SttStream {
    private final SpeechWorkers workers;
    private final SpeechWorkers.Worker worker;
    private final String sessionId;
    private final GrpcClientRequest<AudioChunk, SpeechEvent> call;
    private final long finalTimeoutMs;
    private final int bytesPerMs;
    private volatile String partial = "";
    /** Set once the stream is unusable: the worker left, failed it, or stopped answering. */
    private volatile RuntimeException broken;
    /** The worker's answer awaited: a final transcript, or a settled one. */
    private volatile CompletableFuture<Transcript> pendingFinal;
    private long seq;
    private long positionBytes;

    private RemoteStream(SpeechWorkers workers, SpeechWorkers.Worker worker, String sessionId,
        GrpcClientRequest<AudioChunk, SpeechEvent> call, int sampleRateHz, long finalTimeoutMs) {
      this.workers = workers;
      this.worker = worker;
      this.sessionId = sessionId;
      this.call = call;
      this.finalTimeoutMs = finalTimeoutMs;
      this.bytesPerMs = sampleRateHz * 2 / 1000;
    }

    static RemoteStream open(SpeechWorkers workers, SpeechWorkers.Worker worker, int sampleRateHz, String language,
        long finalTimeoutMs) {
      String sessionId = UUID.randomUUID().toString();
      CreateSessionRequest create = CreateSessionRequest.newBuilder().setSessionId(sessionId)
          .setSampleRateHz(sampleRateHz).setLanguage(language).setEndpointing(Endpointing.ENDPOINTING_CLIENT).build();
      Future<RemoteStream> opened = workers.onContext(() -> workers
          .<CreateSessionRequest, CreateSessionResponse>unary(worker, SpeechWorkerGrpcClient.CreateSession, create)
          .compose(created -> workers.<AudioChunk, SpeechEvent>stream(worker, SpeechWorkerGrpcClient.ProcessAudio))
          .map(call -> {
            RemoteStream stream = new RemoteStream(workers, worker, sessionId, call, sampleRateHz, finalTimeoutMs);
            call.exceptionHandler(stream::fail);
            call.response().onSuccess(stream::listen).onFailure(stream::fail);
            return stream;
          }));
      try {
        return SpeechWorkers.await(opened, workers.callTimeoutMs() * 2);
      } catch (RuntimeException e) {
        // Too late for the caller: whatever was opened is given back, the worker session included.
        opened.onSuccess(RemoteStream::close);
        if (!(e instanceof WorkerStatusException status && status.status() == GrpcStatus.DEADLINE_EXCEEDED)) {
          workers.onContext(() -> workers.<StopSessionRequest, StopSessionResponse>unary(worker,
              SpeechWorkerGrpcClient.StopSession, StopSessionRequest.newBuilder().setSessionId(sessionId).build()));
        }
        throw e;
      }
    }

    private void listen(GrpcClientResponse<AudioChunk, SpeechEvent> response) {
      response.handler(event -> {
        switch (event.getEventCase()) {
          case PARTIAL -> partial = event.getPartial().getText();
          case FINAL, SETTLED -> {
            // The answer to the one request waiting (requests come one at a time, in order).
            CompletableFuture<Transcript> waiting = pendingFinal;
            if (waiting != null) {
              waiting.complete(event.hasFinal() ? event.getFinal() : event.getSettled());
            }
          }
          default -> {
            // Speech events: the verticle's own detector already decides turns.
          }
        }
      });
      response.exceptionHandler(this::fail);
      response.endHandler(v -> fail(new WorkerStatusException(
          response.status() == null ? GrpcStatus.UNKNOWN : response.status(),
          "the worker ended the stream: " + WorkerStatusException.messageOf(response))));
    }

    private void fail(Throwable cause) {
      if (broken != null) {
        return;
      }
      broken = new EngineUnavailableException("speech worker " + worker.name() + " lost the session: " + cause.getMessage(), cause);
      // A refusal of this stream (its buffer cap, another stream took it) says nothing about the worker.
      if (!(cause instanceof WorkerStatusException status) || status.status() == GrpcStatus.UNAVAILABLE
          || status.status() == GrpcStatus.DEADLINE_EXCEEDED || status.status() == GrpcStatus.UNKNOWN) {
        workers.markDown(worker, cause);
      }
      CompletableFuture<Transcript> waiting = pendingFinal;
      if (waiting != null) {
        waiting.completeExceptionally(broken);
      }
    }

    @Override
    public String accept(byte[] pcm, int length) {
      check();
      send(ByteString.copyFrom(pcm, 0, length), false, false);
      positionBytes += length;
      return partial;
    }

    @Override
    public String finish() {
      String text = ask(false).getText();
      partial = "";
      return text;
    }

    /** The worker's settled words (its answer to a chunk's {@code settle}). */
    @Override
    public Settled settle() {
      Transcript settled = ask(true);
      partial = settled.getText();
      return new Settled(settled.getText(), settled.getOtherReadingsList());
    }

    /** Sends an empty chunk asking to settle or to end the utterance; waits for the worker's answer. */
    private Transcript ask(boolean settle) {
      check();
      CompletableFuture<Transcript> answer = new CompletableFuture<>();
      pendingFinal = answer;
      if (broken != null) {
        // fail() ran between check() and here and found nothing to complete.
        answer.completeExceptionally(broken);
      }
      String what = settle ? "settled transcript" : "final transcript";
      send(ByteString.EMPTY, !settle, settle);
      try {
        return answer.get(finalTimeoutMs, TimeUnit.MILLISECONDS);
      } catch (TimeoutException e) {
        fail(new WorkerStatusException(GrpcStatus.DEADLINE_EXCEEDED, "no " + what + " within " + finalTimeoutMs + " ms"));
        throw broken;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new EngineUnavailableException("interrupted waiting for a " + what, e);
      } catch (java.util.concurrent.ExecutionException e) {
        throw broken != null ? broken : new EngineUnavailableException(e.getCause().getMessage(), e.getCause());
      } finally {
        pendingFinal = null;
      }
    }

    private void check() {
      if (broken != null) {
        throw broken;
      }
    }

    private void send(ByteString audio, boolean endOfUtterance, boolean settle) {
      AudioChunk chunk = AudioChunk.newBuilder().setSessionId(sessionId).setSeq(seq++)
          .setTimestampMs(positionBytes / bytesPerMs).setAudio(audio).setEndOfUtterance(endOfUtterance)
          .setSettle(settle).build();
      workers.run(() -> call.write(chunk));
    }

    @Override
    public void close() {
      broken = broken == null ? new EngineUnavailableException("closed") : broken;
      workers.onContext(() -> call.end()
          .eventually(() -> workers.<StopSessionRequest, StopSessionResponse>unary(worker, SpeechWorkerGrpcClient.StopSession,
              StopSessionRequest.newBuilder().setSessionId(sessionId).build())))
          .onFailure(e -> LOG.debug("stopping worker session {}: {}", sessionId, e.getMessage()));
    }
  }
}
