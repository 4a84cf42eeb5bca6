package io.voicemesh.tts;

import io.vertx.core.Future;
import io.vertx.grpc.client.GrpcClientRequest;
import io.vertx.grpc.common.GrpcStatus;
import io.voicemesh.api.engine.EngineUnavailableException;
import io.voicemesh.api.engine.TtsEngine;
import io.voicemesh.api.grpc.SpeechWorkers;
import io.voicemesh.api.grpc.WorkerStatusException;
import io.voicemesh.api.worker.SpeechWorkerGrpcClient;
import io.voicemesh.api.worker.SynthesizeRequest;
import io.voicemesh.api.worker.SynthesizedAudio;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * {@code grpc}: synthesis on remote speech workers (speech_worker.proto's Synthesize), at the
 * rate this engine announces, whatever the worker's engine makes natively.
 */
final class GrpcTtsEngine implements TtsEngine {
  /** Marks the normal end of a call's audio in the hand-over queue. */
  private static final Object END = new Object();

  private final SpeechWorkers workers;
  private final int sampleRateHz;
  private final long chunkTimeoutMs;

  GrpcTtsEngine(SpeechWorkers workers, int sampleRateHz, long chunkTimeoutMs) {
    this.workers = workers;
    this.sampleRateHz = sampleRateHz;
    this.chunkTimeoutMs = chunkTimeoutMs;
  }

  @Override
  public int sampleRateHz() {
    return sampleRateHz;
  }

  @Override
  public boolean available() {
    return workers.anyOk();
  }

  /** Tries the healthy workers in turn until one speaks; one that fails after audio ends the call. */
  @Override
  public void synthesize(String text, String voice, Consumer<byte[]> sink, BooleanSupplier cancelled) {
    SynthesizeRequest request = SynthesizeRequest.newBuilder().setText(text).setVoice(voice == null ? "" : voice)
        .setSampleRateHz(sampleRateHz).build();
    List<String> refused = new ArrayList<>();
    for (SpeechWorkers.Worker worker : workers.candidates()) {
      boolean[] spoke = {false};
      try {
        speak(worker, request, pcm -> {
          spoke[0] = true;
          sink.accept(pcm);
        }, cancelled);
        return;
      } catch (RuntimeException failure) {
        // Anything but a status (a refused connection, a reset) means the worker is not there.
        WorkerStatusException e = failure instanceof WorkerStatusException status ? status
            : new WorkerStatusException(GrpcStatus.UNAVAILABLE, failure.getMessage());
        if (!e.workerUnavailable() && e.status() != GrpcStatus.UNKNOWN && e.status() != GrpcStatus.INTERNAL) {
          throw e; // the text itself was refused: another worker would refuse it too
        }
        if (e.status() != GrpcStatus.RESOURCE_EXHAUSTED) {
          workers.markDown(worker, e);
        }
        refused.add(worker.name() + ": " + e.getMessage());
        if (spoke[0]) {
          throw new EngineUnavailableException("speech worker " + worker.name() + " failed mid-sentence: " + e.getMessage(), e);
        }
      }
    }
    throw new EngineUnavailableException(refused.isEmpty() ? "no speech worker is healthy: " + workers.all()
        : "no speech worker spoke the sentence (" + String.join("; ", refused) + ")");
  }

  private void speak(SpeechWorkers.Worker worker, SynthesizeRequest request, Consumer<byte[]> sink,
      BooleanSupplier cancelled) {
    BlockingQueue<Object> received = new LinkedBlockingQueue<>();
    // The response's headers come with its first audio: wait for them as long as for any chunk.
    Future<GrpcClientRequest<SynthesizeRequest, SynthesizedAudio>> started = workers.onContext(() -> workers
        .<SynthesizeRequest, SynthesizedAudio>stream(worker, SpeechWorkerGrpcClient.Synthesize)
        .compose(call -> call.end(request).compose(v -> call.response()).map(response -> {
          response.handler(received::add);
          response.exceptionHandler(received::add);
          response.endHandler(v -> received.add(response.status() == null || response.status() == GrpcStatus.OK
              ? END : new WorkerStatusException(response.status(), WorkerStatusException.messageOf(response))));
          return call;
        })));
    GrpcClientRequest<SynthesizeRequest, SynthesizedAudio> call;
    try {
      call = SpeechWorkers.await(started, chunkTimeoutMs);
    } catch (RuntimeException e) {
      started.onSuccess(late -> workers.run(late::cancel)); // the worker stops speaking to nobody
      throw e;
    }
    while (true) {
      if (cancelled.getAsBoolean()) {
        workers.run(call::cancel);
        return;
      }
      Object next;
      try {
        next = received.poll(chunkTimeoutMs, TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        workers.run(call::cancel);
        return;
      }
      if (next == null) {
        workers.run(call::cancel);
        throw new WorkerStatusException(GrpcStatus.DEADLINE_EXCEEDED, "no audio for " + chunkTimeoutMs + " ms");
      } else if (next == END) {
        return;
      } else if (next instanceof SynthesizedAudio audio) {
        sink.accept(audio.getAudio().toByteArray());
      } else if (next instanceof WorkerStatusException status) {
        throw status;
      } else if (next instanceof Throwable failure) {
        throw new WorkerStatusException(GrpcStatus.UNAVAILABLE, failure.getMessage());
      }
    }
  }

  @Override
  public java.util.Map<String, String> workers() {
    return workers.status();
  }

  @Override
  public void close() {
    workers.close();
  }
}
