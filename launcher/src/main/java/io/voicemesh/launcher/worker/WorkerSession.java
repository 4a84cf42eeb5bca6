package io.voicemesh.launcher.worker;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.server.GrpcServerRequest;
import io.voicemesh.api.SerialTasks;
import io.voicemesh.api.audio.Pcm16;
import io.voicemesh.api.audio.Reframer;
import io.voicemesh.api.engine.EndOfTurn;
import io.voicemesh.api.engine.SpeechSegmenter;
import io.voicemesh.api.engine.SttStream;
import io.voicemesh.api.worker.AudioChunk;
import io.voicemesh.api.worker.ChunkProcessed;
import io.voicemesh.api.worker.SpeechEvent;
import io.voicemesh.api.worker.SpeechStarted;
import io.voicemesh.api.worker.SpeechStopped;
import io.voicemesh.api.worker.StopSessionResponse;
import io.voicemesh.api.worker.Transcript;
import java.util.TreeMap;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One recognition session on the worker. Chunks arrive on the event loop, where sequence numbers
 * are checked, early chunks held and the buffer cap enforced; their audio goes through the
 * {@link SpeechSegmenter} in order on the worker pool, and its events go back on the event loop
 * to whichever ProcessAudio stream the session is bound to.
 */
final class WorkerSession {
  private static final Logger LOG = LoggerFactory.getLogger(WorkerSession.class);

  /** The session's settings, as CreateSession resolved them. */
  record Spec(String id, int sampleRateHz, boolean autoEndpointing, int silenceMs, int minSpeechMs,
      boolean ackChunks, String voice, int minSilenceMs) {
    /** As an STT node decides it: the same rule, the same defaults. */
    EndOfTurn endOfTurn() {
      return EndOfTurn.forStream(minSilenceMs, silenceMs);
    }
  }

  private final Spec spec;
  private final WorkerSettings settings;
  private final Context context;
  private final SttStream recognizer;
  private final SpeechSegmenter segmenter;
  private final Reframer windows;
  private final SerialTasks tasks;
  private final Consumer<WorkerSession> onEnded;
  private GrpcServerRequest<AudioChunk, SpeechEvent> call;
  private long nextSeq;
  private final TreeMap<Long, AudioChunk> held = new TreeMap<>();
  private long heldBytes;
  private final AtomicLong queuedBytes = new AtomicLong();
  private long chunksReceived;
  private long lastActivity = System.currentTimeMillis();
  private volatile boolean ended;
  // Touched only by the worker pool, one task at a time.
  private long eventSeq;
  private long eventTimestampMs;
  private long processedBytes;

  WorkerSession(Spec spec, WorkerSettings settings, Context context, SttStream recognizer, Executor pool,
      Consumer<WorkerSession> onEnded) {
    this.spec = spec;
    this.settings = settings;
    this.context = context;
    this.recognizer = recognizer;
    this.onEnded = onEnded;
    this.segmenter = new SpeechSegmenter(recognizer, spec.sampleRateHz(), spec.minSpeechMs(), spec.endOfTurn(),
        spec.autoEndpointing(), new Events());
    this.windows = new Reframer(segmenter.windowBytes(), segmenter::accept);
    this.tasks = new SerialTasks(pool, e -> {
      LOG.error("session {}: recognizer failed", spec.id(), e);
      context.runOnContext(v -> fail(GrpcStatus.INTERNAL, "the recognizer failed: " + e.getMessage()));
    });
  }

  Spec spec() {
    return spec;
  }

  /** Whether {@code stream} is the one carrying this session now. */
  boolean boundTo(GrpcServerRequest<AudioChunk, SpeechEvent> stream) {
    return call == stream;
  }

  long idleMs(long now) {
    return call != null ? 0 : now - lastActivity;
  }

  /** {@code stream} now carries this session; a stream that did before ends with ABORTED. */
  void attach(GrpcServerRequest<AudioChunk, SpeechEvent> stream) {
    if (call != null) {
      Status.end(call.response(), GrpcStatus.ABORTED, "another ProcessAudio stream took session " + spec.id());
    }
    call = stream;
    lastActivity = System.currentTimeMillis();
  }

  /** One chunk from the bound stream (event loop). */
  void receive(AudioChunk chunk) {
    lastActivity = System.currentTimeMillis();
    long seq = chunk.getSeq();
    int size = chunk.getAudio().size();
    if (seq < nextSeq || held.containsKey(seq)) {
      fail(GrpcStatus.INVALID_ARGUMENT, "chunk seq " + seq + " was already received; the next expected is " + nextSeq);
    } else if (seq - nextSeq > settings.reorderWindow()) {
      fail(GrpcStatus.OUT_OF_RANGE, "chunk seq " + seq + " is " + (seq - nextSeq) + " ahead of the next expected "
          + nextSeq + "; at most " + settings.reorderWindow() + " chunks are held");
    } else if (size % Pcm16.BYTES_PER_SAMPLE != 0) {
      fail(GrpcStatus.INVALID_ARGUMENT, "chunk seq " + seq + " has " + size + " bytes: PCM16 samples take 2 bytes each");
    } else if (heldBytes + queuedBytes.get() + size > settings.maxBufferBytes()) {
      fail(GrpcStatus.RESOURCE_EXHAUSTED, "session " + spec.id() + " would hold " + (heldBytes + queuedBytes.get() + size)
          + " bytes of audio not yet recognized; the cap is " + settings.maxBufferBytes() + " bytes");
    } else if (seq != nextSeq) {
      held.put(seq, chunk);
      heldBytes += size;
    } else {
      process(chunk);
      for (AudioChunk next; (next = held.remove(nextSeq)) != null; ) {
        heldBytes -= next.getAudio().size();
        process(next);
      }
    }
  }

  private void process(AudioChunk chunk) {
    nextSeq++;
    chunksReceived++;
    if (chunk.getAudio().isEmpty() && !chunk.getEndOfUtterance() && !chunk.getSettle()) {
      return; // a keep-alive: its seq is taken, nothing else happens
    }
    byte[] pcm = chunk.getAudio().toByteArray();
    queuedBytes.addAndGet(pcm.length);
    tasks.submit(() -> {
      queuedBytes.addAndGet(-pcm.length);
      if (ended) {
        return;
      }
      eventSeq = chunk.getSeq();
      eventTimestampMs = chunk.getTimestampMs();
      windows.accept(pcm);
      processedBytes += pcm.length;
      if (chunk.getSettle() && !chunk.getEndOfUtterance()) {
        SttStream.Settled words = segmenter.settle();
        send(event().setAudioMs(segmenter.positionMs()).setSettled(Transcript.newBuilder().setText(words.text())
            .addAllOtherReadings(words.otherReadings())).build());
      }
      if (chunk.getEndOfUtterance()) {
        segmenter.endUtterance();
      }
      if (spec.ackChunks()) {
        send(event().setProcessed(ChunkProcessed.newBuilder().setBufferedBytes(queuedBytes.get())).build());
      }
    });
  }

  /** The bound stream half-closed: the open utterance is finalized and the stream ends OK; the session stays. */
  void halfClosed(GrpcServerRequest<AudioChunk, SpeechEvent> stream) {
    if (stream != call) {
      return;
    }
    finishThen(() -> {
      if (call == stream) {
        Status.end(stream.response(), GrpcStatus.OK, null);
        call = null;
        lastActivity = System.currentTimeMillis();
      }
    });
  }

  /** The bound stream broke or was cancelled by the caller: the session ends. */
  void lost(GrpcServerRequest<AudioChunk, SpeechEvent> stream) {
    if (stream == call) {
      call = null;
      end();
    }
  }

  /**
   * StopSession, or a shutdown ({@code status} UNAVAILABLE): the open utterance is finalized, the
   * stream ends with {@code status}, the session is over.
   */
  Future<StopSessionResponse> stop(GrpcStatus status, String message) {
    Promise<StopSessionResponse> stopped = Promise.promise();
    finishThen(() -> {
      Future<Void> ended = call == null ? Future.succeededFuture() : Status.end(call.response(), status, message);
      call = null;
      end();
      ended.onComplete(written -> stopped.complete(StopSessionResponse.newBuilder().setChunksReceived(chunksReceived)
          .setAudioMs(Pcm16.msFor(spec.sampleRateHz(), processedBytes)).build()));
    });
    return stopped.future();
  }

  /** Ends the stream with an error status; such a stream takes its session with it. */
  void fail(GrpcStatus status, String message) {
    if (call != null) {
      Status.end(call.response(), status, message);
      call = null;
    }
    end();
  }

  /** Frees the session at once: queued audio is skipped, the recognizer closed after it. */
  void end() {
    if (ended) {
      return;
    }
    ended = true;
    held.clear();
    heldBytes = 0;
    tasks.submit(recognizer::close);
    onEnded.accept(this);
  }

  /** After the audio queued so far: finalize an open utterance, then run {@code then} on the event loop. */
  private void finishThen(Runnable then) {
    tasks.submit(() -> {
      if (!ended && segmenter.utteranceOpen()) {
        segmenter.endUtterance();
      }
      context.runOnContext(v -> then.run());
    });
  }

  private SpeechEvent.Builder event() {
    return SpeechEvent.newBuilder().setSessionId(spec.id()).setSeq(eventSeq).setTimestampMs(eventTimestampMs);
  }

  /** From the worker pool: written on the event loop, in order, to the stream bound then. */
  private void send(SpeechEvent event) {
    context.runOnContext(v -> {
      if (call != null) {
        call.response().write(event);
      }
    });
  }

  private final class Events implements SpeechSegmenter.Listener {
    @Override
    public void speechStarted(long audioMs) {
      send(event().setAudioMs(audioMs).setSpeechStarted(SpeechStarted.getDefaultInstance()).build());
    }

    @Override
    public void partial(String text, long audioMs) {
      send(event().setAudioMs(audioMs).setPartial(Transcript.newBuilder().setText(text)).build());
    }

    @Override
    public void speechStopped(long audioMs) {
      send(event().setAudioMs(audioMs).setSpeechStopped(SpeechStopped.getDefaultInstance()).build());
    }

    @Override
    public void utteranceEnded(String text, long audioMs, long speechStartMs, long speechEndMs) {
      send(event().setAudioMs(audioMs).setFinal(Transcript.newBuilder().setText(text)
          .setSpeechStartMs(speechStartMs).setSpeechEndMs(speechEndMs)).build());
    }

    // checkpoint(): internal to the recognizer; callers see only that no transcript came of it.
  }
}
