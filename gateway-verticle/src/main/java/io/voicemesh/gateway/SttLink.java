package io.voicemesh.gateway;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.MessageProducer;
import io.vertx.core.json.JsonObject;
import io.voicemesh.api.Addresses;
import io.voicemesh.api.Bus;
import io.voicemesh.api.ErrorCode;
import io.voicemesh.api.Json;
import io.voicemesh.api.MeshException;
import io.voicemesh.api.Role;
import io.voicemesh.api.audio.Pcm16;
import io.voicemesh.api.message.FrameStamp;
import io.voicemesh.api.message.NodeLeft;
import io.voicemesh.api.message.RoleStatus;
import io.voicemesh.api.message.SttControl;
import io.voicemesh.api.message.SttEvent;
import io.voicemesh.api.message.SttOpen;
import io.voicemesh.api.message.SttOpened;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.function.Consumer;
import java.util.function.IntSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A conversation's speech-to-text stream, which lives on one STT node at a time and moves when
 * that node goes away.
 *
 * <pre>
 * client audio ─▶ unsent ──(stream open)──▶ STT node ─▶ retained (since the last final / silence)
 *                   ▲                                        │
 *                   └─ node unreachable or left / stream closed ─┘  replayed to the next node
 * </pre>
 * A node that dies is noticed by the first frame the event bus cannot deliver to it (its
 * connection is gone and a new one is refused), tens of ms after the process is gone, and else
 * when the cluster's membership view drops it ({@link #nodeLeft}). A node that is merely slow or
 * hung still takes frames (the kernel buffers them), so it is never left for being behind.
 * {@code stt.open} goes to any STT node with room (a full node is not listening, and refuses if it
 * is reached meanwhile); up to {@code sttOpenAttempts} nodes are tried before the client hears
 * {@code capacity}. Every position this class reports is in the session's audio (ms since the
 * connection's audio began), whichever node produced it.
 *
 * <p>With {@code failover.sttStandby}, a second stream on another node decodes the same audio from
 * the last utterance boundary on ({@link SttStandby}); when the serving node is lost the standby
 * takes over with nothing to replay, and another standby is opened at the next boundary.
 */
final class SttLink {
  /** Audio replayed from before an utterance's voiced start when its stream moves: what Vosk needs as lead-in. */
  private static final long REPLAY_PRE_ROLL_MS = 300;
  private static final Logger LOG = LoggerFactory.getLogger(SttLink.class);
  private static final long RETRY_AFTER_FAILURE_MS = 1_000;
  private static final long OPEN_BACKOFF_MS = 50;
  /**
   * A standby that could not be opened (every other STT node full) is asked for again after this,
   * doubled at each refusal up to {@link #STANDBY_RETRY_MAX_MS}: a busy cluster is not asked every
   * few seconds by every session.
   */
  private static final long STANDBY_RETRY_MS = 5_000;
  private static final long STANDBY_RETRY_MAX_MS = 60_000;
  /**
   * A standby its node closed (to give its place to a stream, most often; or idle, or failing) is
   * asked for again after this, not at the next utterance: each new standby decodes the audio
   * retained since the last boundary, work lost if it gives way again at once.
   */
  private static final long STANDBY_CLOSED_RETRY_MS = 30_000;
  private static final int HOP_SAMPLE_EVERY = 10;
  /**
   * Opens raced when a stream moves off a node the cluster may still list: the event bus's
   * round-robin sends consecutive requests to different nodes, so one of two reaches a live one
   * even when the other goes to the dead node (which never answers; Vert.x only times it out).
   */
  private static final int OPENS_WHILE_NODE_LISTED = 2;

  private enum State { CLOSED, OPENING, OPEN }

  /** A piece of the session's audio, where it starts in the session's audio and when it arrived. */
  private record Frame(Buffer pcm, long startMs, long arrivedNanos) {
  }

  private final Vertx vertx;
  private final EventBus bus;
  private final GatewaySettings settings;
  private final String sessionId;
  private final String eventsAddress;
  private final Consumer<SttEvent> onEvent;
  private final Consumer<MeshException> onUnavailable;
  /** Whose stream it is: STT nodes give one user, and one token, a share of their capacity. */
  private final Caller caller;
  /** Frames in order and their bytes; beyond {@code sttReplayMs} of audio the oldest go. */
  private final class FrameQueue {
    final ArrayDeque<Frame> frames = new ArrayDeque<>();
    long bytes;
    /** The oldest frames went for the cap: the queue no longer starts where its stream's utterance did. */
    boolean capped;

    void add(Frame frame) {
      frames.add(frame);
      bytes += frame.pcm().length();
      long cap = Pcm16.bytesFor(rateHz, (int) settings.sttReplayMs());
      while (bytes > cap) {
        bytes -= frames.removeFirst().pcm().length();
        capped = true;
      }
    }

    void clear() {
      frames.clear();
      bytes = 0;
      capped = false;
    }

    /** Where the queued audio begins in the session's audio; with none queued, where the next frame will. */
    long fromMs() {
      return frames.isEmpty() ? timeline.positionMs() : frames.peekFirst().startMs();
    }
  }

  private final AudioTimeline timeline = new AudioTimeline();
  /** Audio not yet sent to the current stream. */
  private final FrameQueue unsent = new FrameQueue();
  /** Audio the current stream has, from its last final transcript or checkpoint on. */
  private final FrameQueue retained = new FrameQueue();
  private int rateHz;
  private int silenceMs;
  private int minSilenceMs;
  private int minSpeechMs;
  private State state = State.CLOSED;
  /** The current stream: its node's stream address and its id there; null unless open. */
  private SttOpened stream;
  /** Its messages' headers. */
  private DeliveryOptions streamHeaders;
  /** Sends to the stream's node; its writes fail when the event bus cannot reach the node. */
  private MessageProducer<Buffer> frames;
  /** When the stream being opened was lost (nanoTime), for the log; 0 when not moving. */
  private long lostAt;
  /** Where the current stream's position 0 is in the session's audio. */
  private long streamBaseMs;
  /** A speech_started was reported and its utterance has not ended: a replay does not report it again. */
  private boolean speaking;
  /** Where the utterance under way began to be voiced (session ms): a moved stream's replay starts just before it. */
  private long speechFromMs;
  /** The stream being opened continues an utterance under way ({@code SttOpen.inSpeech}). */
  private boolean openInSpeech;
  private boolean commitPending;
  private long retryAt;
  private long framesSent;
  private long opens;
  private boolean closed;
  /** The retained audio begins at an utterance boundary (a final, a checkpoint, a fresh stream's start). */
  private boolean retainedAtBoundary;
  /** Where the current stream's last report lies (session ms): a standby taking over tells only what is later. */
  private long reportedToMs;
  /** The last partial transcript the conversation got, until its utterance's final: a standby taking over does not repeat it. */
  private String lastPartialText = "";
  /** Utterances a standby that took over must still finish before its events are news (see {@link SttStandby#behind}). */
  private int skipUtterances;
  /** The hot standby, when open; null else. */
  private SttStandby standby;
  /** Its frames' sender and headers. */
  private MessageProducer<Buffer> standbyFrames;
  /** Counts standby opens: a standby whose open was overtaken (this moved on) is closed when it opens. */
  private long standbyOpens;
  private boolean standbyOpening;
  private long standbyRetryAt;
  private long standbyRetryMs = STANDBY_RETRY_MS;
  /** How many STT nodes the gateway knows ({@link SttNodeAddresses}): with one there is no standby to open. */
  private final IntSupplier sttNodes;
  /** Where the last commit was sent (session ms): a standby must begin after it, or it would miss the utterance end. */
  private long committedAtMs = -1;

  SttLink(Vertx vertx, GatewaySettings settings, String sessionId, String eventsAddress, Consumer<SttEvent> onEvent,
      Consumer<MeshException> onUnavailable, Caller caller, IntSupplier sttNodes) {
    this.vertx = vertx;
    this.sttNodes = sttNodes;
    this.caller = caller;
    this.bus = vertx.eventBus();
    this.settings = settings;
    this.sessionId = sessionId;
    this.eventsAddress = eventsAddress;
    this.onEvent = onEvent;
    this.onUnavailable = onUnavailable;
  }

  /**
   * The audio format and turn settings (see {@code SttOpen}: {@code silence} ends any turn,
   * {@code minSilence} one that sounds complete); a change closes the stream, the next audio opens
   * one with them.
   */
  void format(int rate, int minSilence, int silence, int minSpeech) {
    if (rate == rateHz && minSilence == minSilenceMs && silence == silenceMs && minSpeech == minSpeechMs) {
      return;
    }
    closeStream();
    discardAudio();
    rateHz = rate;
    minSilenceMs = minSilence;
    silenceMs = silence;
    minSpeechMs = minSpeech;
  }

  /** The STT node serving the stream now, or null. */
  String node() {
    return stream == null ? null : stream.node();
  }

  /** When the session audio at {@code sessionMs} arrived, or -1 when no longer known. */
  long arrivalOf(long sessionMs) {
    return timeline.arrivalOf(sessionMs);
  }

  void audio(Buffer pcm) {
    long arrived = System.nanoTime();
    Frame frame = new Frame(pcm, timeline.positionMs(), arrived);
    timeline.forwarded(rateHz, pcm.length(), arrived);
    switch (state) {
      case OPEN -> send(frame);
      case OPENING -> unsent.add(frame);
      case CLOSED -> {
        if (System.currentTimeMillis() >= retryAt) {
          unsent.add(frame);
          open();
        }
      }
    }
  }

  void commit() {
    switch (state) {
      case OPEN -> {
        committedAtMs = timeline.positionMs();
        control(stream, new SttControl.Commit());
        if (standby != null) {
          control(standby.stream(), new SttControl.Commit());
        } else {
          cancelStandbyOpen(); // it would miss the commit, and so end its utterances elsewhere than the stream
        }
      }
      case OPENING -> commitPending = true;
      case CLOSED -> { }
    }
  }

  /**
   * An event from a stream of this session: positions become session positions; retained audio
   * shrinks. Late events of a stream already replaced ({@code fromStream} is not the current one)
   * are dropped: the replacement hears that audio again.
   */
  void received(SttEvent event, String fromStream) {
    if (closed) {
      return;
    }
    if (standby != null && standby.stream().streamId().equals(fromStream)) {
      standbyReported(event);
      return;
    }
    if (state != State.OPEN || !stream.streamId().equals(fromStream)) {
      return;
    }
    if (event instanceof SttEvent.StreamClosed gone) {
      // The node let the stream go (idle, stopping) or does not know it (restarted, already released):
      // move to another, now if speech may be in flight.
      moveStream("stream closed on " + stream.node() + ": " + gone.reason(), speaking, false);
      return;
    }
    SttEvent inSession = event.shiftedBy(streamBaseMs);
    if (skipUtterances > 0 && !(inSession instanceof SttEvent.Checkpoint)) {
      // A standby that took over finishing an utterance the client already has the final of.
      if (inSession instanceof SttEvent.TranscriptFinal fin) {
        skipUtterances--;
        forgetBefore(fin.audioMs());
      }
      return;
    }
    deliver(inSession);
  }

  /** An event of the current stream, in session positions, to the conversation. */
  private void deliver(SttEvent event) {
    long at = event.audioMs();
    if (event instanceof SttEvent.Checkpoint) {
      boundaryAt(at);
      openStandby();
      return;
    }
    reportedToMs = Math.max(reportedToMs, at);
    if (event instanceof SttEvent.SpeechStarted) {
      if (!speaking) {
        speaking = true;
        // The detector reports speech once minSpeechMs of it was voiced: it began about that much earlier.
        speechFromMs = Math.max(0, at - minSpeechMs);
        onEvent.accept(event);
      }
    } else if (event instanceof SttEvent.SpeechStopped) {
      if (speaking) {
        speaking = false;
        onEvent.accept(event);
      }
    } else if (event instanceof SttEvent.TranscriptFinal) {
      speaking = false;
      lastPartialText = "";
      boundaryAt(at);
      if (standby != null) {
        standby.servingFinal(at);
        if (standby.misaligned()) {
          dropStandby("it ended an utterance elsewhere than the stream did");
        }
      }
      onEvent.accept(event);
      openStandby();
    } else if (event instanceof SttEvent.TranscriptPartial partial) {
      lastPartialText = partial.text();
      onEvent.accept(event);
    } else if (event instanceof SttEvent.Warning) {
      onEvent.accept(event);
    }
  }

  /**
   * A cluster member died or left: if it served this stream, the stream moves to another STT node
   * now; so does one of an STT node that is stopping and says so. The event bus may still list the
   * node for {@code stt.open} for a while (until every node's view has dropped it), so opens are raced.
   */
  void nodeLeft(NodeLeft left) {
    if (standby != null && servedBy(standby.stream(), left)) {
      dropStandby("its STT node " + left.node() + " is gone or stopping");
    }
    if (state == State.OPEN && servedBy(stream, left)) {
      moveStream("STT node " + stream.node() + " is gone or stopping", true, true);
    }
  }

  private static boolean servedBy(SttOpened opened, NodeLeft left) {
    return left.had(Role.STT) && opened.node() != null && opened.node().equals(left.node());
  }

  /** The connection is gone: release the stream. */
  void close() {
    closed = true;
    closeStream();
    discardAudio();
  }

  // ---- internals ------------------------------------------------------------------------------

  private void send(Frame frame) {
    // A sample of the frames carries a send time, enough for the hop histogram at a tenth of the cost.
    boolean stamped = framesSent++ % HOP_SAMPLE_EVERY == 0;
    frames.deliveryOptions(stamped ? FrameStamp.stamp(stream.delivery(eventsAddress)) : streamHeaders);
    SttOpened to = stream;
    frames.write(frame.pcm()).onFailure(e -> undelivered(to, e));
    toStandby(frame);
    retained.add(frame);
  }

  /**
   * The event bus could not deliver a frame to the stream: its node's connection closed and a new
   * one was refused (the process is gone), or the node no longer listens. Either way the stream is
   * lost now, whatever the membership view says yet.
   */
  private void undelivered(SttOpened to, Throwable why) {
    if (closed || state != State.OPEN || to != stream) {
      return; // a frame of a stream already left behind, or of the standby (see toStandby)
    }
    moveStream("audio to STT node " + stream.node() + " could not be delivered (" + why.getMessage() + ")", true, true);
  }

  /** The current stream ended an utterance or reset its recognizer at {@code sessionMs}. */
  private void boundaryAt(long sessionMs) {
    forgetBefore(sessionMs);
    retainedAtBoundary = retained.frames.isEmpty() || retained.frames.peekFirst().startMs() <= sessionMs;
    retained.capped = false;
  }

  /** The current stream no longer needs the audio before {@code sessionMs}. */
  private void forgetBefore(long sessionMs) {
    ArrayDeque<Frame> frames = retained.frames;
    while (!frames.isEmpty()) {
      Frame first = frames.peekFirst();
      long endMs = first.startMs() + Pcm16.msFor(rateHz, first.pcm().length());
      if (endMs <= sessionMs) {
        frames.removeFirst();
        retained.bytes -= first.pcm().length();
      } else if (first.startMs() < sessionMs) {
        int cut = Math.min(first.pcm().length(), Pcm16.bytesFor(rateHz, (int) (sessionMs - first.startMs())));
        cut -= cut % Pcm16.BYTES_PER_SAMPLE;
        frames.removeFirst();
        frames.addFirst(new Frame(first.pcm().slice(cut, first.pcm().length()), sessionMs, first.arrivedNanos()));
        retained.bytes -= cut;
        return;
      } else {
        return;
      }
    }
  }

  /**
   * The stream is lost: what it had since the last final goes back in front of unsent, for the next
   * node; at most {@code sttReplayMs} of it in all.
   */
  private void moveStream(String why, boolean reopenNow, boolean nodeMayBeListed) {
    if (standby != null) {
      takeOver(why);
      return;
    }
    cancelStandbyOpen();
    state = State.CLOSED;
    forgetStream();
    lostAt = System.nanoTime();
    // Mid-utterance, the replay starts just before the speech and the next node takes it as speech
    // from its first frame: the words come back as partials at once, not after minSpeechMs more of
    // voiced audio, and the silence before the utterance is not decoded again.
    openInSpeech = speaking;
    if (speaking) {
      forgetBefore(speechFromMs - REPLAY_PRE_ROLL_MS);
    }
    List<Frame> later = List.copyOf(unsent.frames);
    unsent.clear();
    retained.frames.forEach(unsent::add);
    later.forEach(unsent::add);
    retained.clear();
    LOG.info("session {}: {}; moving its STT stream ({} ms of audio to replay)", sessionId, why,
        Pcm16.msFor(rateHz, unsent.bytes));
    if (reopenNow && !unsent.frames.isEmpty()) {
      open(nodeMayBeListed ? OPENS_WHILE_NODE_LISTED : 1);
    }
  }

  private void open() {
    open(1);
  }

  /** Opens a stream; with {@code racing} > 1, that many opens race and the first stream wins. */
  private void open(int racing) {
    state = State.OPENING;
    // A format change while this open is on its way starts another; only the newest may win.
    long attempt = ++opens;
    SttOpen spec = new SttOpen(sessionId, eventsAddress, rateHz, silenceMs, minSpeechMs, settings.node(),
        caller.user(), caller.tokenId(), openInSpeech && !unsent.frames.isEmpty(), minSilenceMs, false,
        UUID.randomUUID().toString());
    openInSpeech = false;
    firstOpened(spec, racing)
        .onSuccess(opened -> {
          if (closed || state != State.OPENING || attempt != opens) {
            closeOn(opened);
            return;
          }
          state = State.OPEN;
          stream = opened;
          streamHeaders = opened.delivery(eventsAddress);
          frames = bus.sender(opened.nodeAddress());
          streamBaseMs = unsent.fromMs();
          reportedToMs = streamBaseMs;
          skipUtterances = 0;
          // A stream that continues an utterance starts mid-way: a standby waits for its first boundary.
          retainedAtBoundary = !spec.inSpeech() && !unsent.capped;
          if (lostAt != 0) {
            LOG.info("session {}: STT stream moved to {} {} ms after the loss; replaying {} ms of audio", sessionId, opened.node(),
                (System.nanoTime() - lostAt) / 1_000_000, Pcm16.msFor(rateHz, unsent.bytes));
            lostAt = 0;
          }
          unsent.frames.forEach(this::send);
          unsent.clear();
          if (commitPending) {
            commitPending = false;
            commit();
          }
          openStandby();
        })
        .onFailure(e -> {
          if (closed || state != State.OPENING || attempt != opens) {
            return;
          }
          state = State.CLOSED;
          speaking = false;
          discardAudio();
          retryAt = System.currentTimeMillis() + RETRY_AFTER_FAILURE_MS;
          onUnavailable.accept(MeshException.from(e));
        });
  }

  /**
   * The first of {@code racing} opens sent at once to succeed; the streams of the others, should
   * they open too, are closed, and they stop trying other nodes once one has won.
   */
  private Future<SttOpened> firstOpened(SttOpen spec, int racing) {
    Promise<SttOpened> won = Promise.promise();
    List<Future<SttOpened>> opens = new ArrayList<>();
    for (int i = 0; i < racing; i++) {
      opens.add(openOnSomeNode(spec, 1, won.future()));
    }
    Future.any(opens).onComplete(first -> {
      if (first.failed()) {
        won.fail(opens.get(0).cause());
        return;
      }
      SttOpened winner = opens.stream().filter(Future::succeeded).findFirst().orElseThrow().result();
      won.complete(winner);
      // Racers that reached the same node got the same stream (the open is idempotent there): not closed.
      opens.forEach(open -> open.onSuccess(opened -> {
        if (!opened.streamId().equals(winner.streamId())) {
          closeOn(opened);
        }
      }));
    });
    return won.future();
  }

  /**
   * Asks for a stream; a node that is full, vanished or slow is skipped, up to the configured number
   * of attempts, unless another open has already won ({@code raceOver}). When no node listens at all,
   * the STT role is asked whether it exists: then every node is full ({@code capacity}), else speech
   * recognition is down ({@code engine_unavailable}). A {@code quota_exceeded} (this user or token
   * holds its share of the node) is not tried on other nodes: it goes to the client like
   * {@code capacity}, and the audio after the retry pause asks again, which round-robin sends to the
   * next node. Hunting through every node at once would only turn one user's excess into load on all of them.
   */
  private Future<SttOpened> openOnSomeNode(SttOpen spec, int attempt, Future<?> raceOver) {
    return Bus.request(bus, Addresses.STT_OPEN, spec, SttOpened.class, settings.sttOpenTimeoutMs())
        .recover(e -> {
          MeshException error = MeshException.from(e);
          boolean retryable = error.code() == ErrorCode.CAPACITY || error.code() == ErrorCode.ENGINE_UNAVAILABLE;
          if (!retryable || closed || raceOver.isComplete()) {
            return Future.failedFuture(error);
          }
          if (attempt >= settings.sttOpenAttempts()) {
            return error.code() == ErrorCode.CAPACITY ? Future.failedFuture(error) : whyNoNode(error);
          }
          Promise<Void> backoff = Promise.promise();
          vertx.setTimer(OPEN_BACKOFF_MS * attempt, t -> backoff.complete());
          return backoff.future().compose(v -> openOnSomeNode(spec, attempt + 1, raceOver));
        });
  }

  private Future<SttOpened> whyNoNode(MeshException noAnswer) {
    return Bus.request(bus, Addresses.health(Role.STT), new JsonObject(), RoleStatus.class, settings.sttOpenTimeoutMs())
        .transform(health -> Future.failedFuture(health.succeeded()
            ? new MeshException(ErrorCode.CAPACITY, "every STT node is serving its maximum of sessions; try again shortly")
            : noAnswer));
  }

  private void closeStream() {
    if (state == State.OPEN) {
      closeOn(stream);
    }
    if (standby != null) {
      closeOn(standby.stream());
      forgetStandby();
    }
    cancelStandbyOpen();
    opens++;
    state = State.CLOSED;
    forgetStream();
    lostAt = 0;
    commitPending = false;
    speaking = false;
    openInSpeech = false;
  }

  // ---- the hot standby ------------------------------------------------------------------------

  /**
   * Opens a standby if one is configured and missing, the stream is open and its retained audio
   * begins at an utterance boundary: the standby gets that audio, then every frame the stream gets.
   */
  private void openStandby() {
    if (!settings.sttStandby() || sttNodes.getAsInt() < 2 || closed || state != State.OPEN || standby != null
        || standbyOpening || !standbyCanBegin() || System.currentTimeMillis() < standbyRetryAt) {
      return;
    }
    standbyOpening = true;
    long attempt = ++standbyOpens;
    SttOpen spec = new SttOpen(sessionId, eventsAddress, rateHz, silenceMs, minSpeechMs, settings.node(),
        caller.user(), caller.tokenId(), false, minSilenceMs, true, UUID.randomUUID().toString());
    openOnSomeNode(spec, 1, Promise.promise().future())
        .onSuccess(opened -> {
          if (attempt != standbyOpens) {
            closeOn(opened); // overtaken: the stream moved or closed meanwhile
            return;
          }
          standbyOpening = false;
          standbyRetryMs = STANDBY_RETRY_MS;
          if (closed || state != State.OPEN || !standbyCanBegin() || opened.node().equals(stream.node())) {
            closeOn(opened);
            return;
          }
          long baseMs = retained.fromMs();
          standby = new SttStandby(opened, baseMs);
          standbyFrames = bus.sender(opened.nodeAddress(), opened.delivery(eventsAddress));
          LOG.info("session {}: hot standby of its STT stream (on {}) opened on {}, from {} ms of audio ago", sessionId,
              stream.node(), opened.node(), timeline.positionMs() - baseMs);
          retained.frames.forEach(this::toStandby);
        })
        .onFailure(e -> {
          if (attempt == standbyOpens) {
            standbyOpening = false;
            standbyRetryAt = System.currentTimeMillis() + standbyRetryMs;
            standbyRetryMs = Math.min(standbyRetryMs * 2, STANDBY_RETRY_MAX_MS);
            LOG.debug("session {}: no hot standby for its STT stream: {}", sessionId, e.getMessage());
          }
        });
  }

  /**
   * A standby begins where the retained audio does, which must be an utterance boundary (else the two
   * streams would split the audio into utterances differently) after the last commit (which the
   * standby would never get).
   */
  private boolean standbyCanBegin() {
    return retainedAtBoundary && !retained.capped && retained.fromMs() >= committedAtMs;
  }

  private void toStandby(Frame frame) {
    if (standby == null) {
      return;
    }
    SttStandby to = standby;
    standbyFrames.write(frame.pcm()).onFailure(e -> {
      if (standby == to) {
        dropStandby("audio to its node " + to.stream().node() + " could not be delivered (" + e.getMessage() + ")");
      }
    });
  }

  /** An event of the standby: held, or the standby's end. */
  private void standbyReported(SttEvent event) {
    if (event instanceof SttEvent.StreamClosed gone) {
      dropStandby("its node " + standby.stream().node() + " closed it: " + gone.reason());
      standbyRetryAt = System.currentTimeMillis() + STANDBY_CLOSED_RETRY_MS;
      return;
    }
    standby.heard(event.shiftedBy(standby.baseMs()));
    if (standby.misaligned()) {
      dropStandby("it ended an utterance elsewhere than the stream did");
    }
  }

  /**
   * The serving stream is lost and the standby has decoded the same audio all along: it serves from
   * now on, and the client gets at once what the standby heard that the lost stream had not reported.
   */
  private void takeOver(String why) {
    SttStandby next = standby;
    stream = next.stream();
    streamHeaders = stream.delivery(eventsAddress);
    frames = standbyFrames;
    streamBaseMs = next.baseMs();
    skipUtterances = next.behind();
    List<SttEvent> news = new ArrayList<>(next.news(reportedToMs));
    // The same words a little later in the audio are no news either.
    news.removeIf(e -> e instanceof SttEvent.TranscriptPartial partial && partial.text().equals(lastPartialText));
    forgetStandby();
    control(stream, new SttControl.Serve());
    LOG.info("session {}: {}; its hot standby on {} serves the stream now, nothing replayed ({} events news to the client, "
        + "{} utterances to finish first)", sessionId, why, stream.node(), news.size(), skipUtterances);
    news.forEach(this::deliver);
  }

  private void dropStandby(String why) {
    LOG.info("session {}: hot standby of its STT stream dropped: {}", sessionId, why);
    closeOn(standby.stream());
    forgetStandby();
  }

  private void forgetStandby() {
    standby = null;
    standbyFrames = null;
  }

  private void cancelStandbyOpen() {
    if (standbyOpening) {
      standbyOpens++;
      standbyOpening = false;
    }
  }

  private void closeOn(SttOpened opened) {
    control(opened, new SttControl.Close());
  }

  /** A control message to one of this session's streams, on its node's stream address. */
  private void control(SttOpened to, SttControl control) {
    bus.send(to.nodeAddress(), Json.encode(control), to.delivery(eventsAddress));
  }

  private void forgetStream() {
    stream = null;
    streamHeaders = null;
    frames = null;
  }

  private void discardAudio() {
    unsent.clear();
    retained.clear();
  }
}
