package io.voicemesh.gateway;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.json.JsonObject;
import io.voicemesh.api.Addresses;
import io.voicemesh.api.Bus;
import io.voicemesh.api.ErrorCode;
import io.voicemesh.api.MeshException;
import io.voicemesh.api.MeshMetrics;
import io.voicemesh.api.audio.Pcm16;
import io.voicemesh.api.message.EventAppend;
import io.voicemesh.api.message.EventAppended;
import io.voicemesh.api.message.LoggedEvent;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server side of the wire protocol for one connection. Two kinds of text frame:
 * <ul>
 *   <li><b>Session events</b> carry the session's next {@code seq} (1, 2, 3, … with no gap, shared
 *       by every connection of the session). Only the session's writer — its speaker connection —
 *       makes them: each goes to its client at once, is appended to the event log (batched per
 *       event-loop task), and once stored is published on {@code session.<id>.events} for listeners
 *       and dashboards — so they only ever see the history the log holds.</li>
 *   <li><b>Replies</b> to this connection ({@code session.ready}, {@code pong}, {@code session.status},
 *       errors about its own input) carry no {@code seq} and are not logged.</li>
 * </ul>
 * Session events from elsewhere (the log on resume, other connections' writers) are {@link #deliver}ed
 * in seq order; each seq reaches the socket at most once.
 *
 * <p>The log may be away (the database restarts or stalls): events made meanwhile wait in an ordered
 * buffer and are appended in order, one append in flight at a time, each retried with growing
 * pauses until it is stored (the store keeps a retried batch once, even when an earlier attempt
 * lands late). Conversations go on; listeners, who see only stored events, lag. Only when the log
 * stays away longer than {@code gateway.storage.outageBufferMs}, or the buffer outgrows its event or
 * byte cap, does the writer give up: {@code storage_unavailable}.
 */
final class ClientChannel {
  private static final Logger LOG = LoggerFactory.getLogger(ClientChannel.class);
  /** The wire protocol's version, announced in {@code session.ready}. */
  static final String PROTOCOL = "voicemesh.v1";
  private static final long APPEND_RETRY_FIRST_MS = 250;
  private static final long APPEND_RETRY_MAX_MS = 2_000;
  /** The most events one append carries (the store takes at most 1000). */
  private static final int APPEND_MAX_EVENTS = 500;

  private final Vertx vertx;
  private final ServerWebSocket socket;
  private final EventBus bus;
  private final String connectionId;
  private final GatewaySettings settings;
  private final Consumer<ErrorCode> onLost;
  private String sessionId;
  private boolean writer;
  private boolean writing;
  private long lastSeq;
  private long delivered;
  private boolean muted;
  private boolean slow;
  private List<LoggedEvent> batch = new ArrayList<>();
  /** Made but not yet stored, oldest first; the head of it may be on its way to the store. */
  private final ArrayDeque<LoggedEvent> unstored = new ArrayDeque<>();
  private long unstoredBytes;
  private boolean appending;
  /** When the current run of failed appends began (System.nanoTime), or -1 while the log is writable. */
  private long failingSince = -1;
  /** The writer gave up on the log (fenced out, or the outage outlasted the buffer): nothing more is stored. */
  private boolean storageLost;
  private final List<Promise<Void>> drainWaiters = new ArrayList<>();

  /**
   * {@code onLost} is told when this connection can no longer serve its session: {@code taken_over}
   * (another writer holds the session), {@code storage_unavailable} (events could not be stored
   * within the outage bound), or {@code slow_consumer} (a client that does not read what it is sent:
   * its write queue is full).
   */
  ClientChannel(Vertx vertx, ServerWebSocket socket, String connectionId, GatewaySettings settings,
      Consumer<ErrorCode> onLost) {
    this.vertx = vertx;
    this.socket = socket;
    this.bus = vertx.eventBus();
    this.connectionId = connectionId;
    this.settings = settings;
    this.onLost = onLost;
  }

  /**
   * The longest a writer may take to store an event, retries through an outage included: how long
   * a gap is worth waiting for. (The last attempt starts within the outage bound and may take its timeout.)
   */
  static long appendBudgetMs(GatewaySettings settings) {
    return settings.outageBufferMs() + 2 * settings.sessionTimeoutMs() + APPEND_RETRY_MAX_MS + 1_000;
  }

  /**
   * Binds the channel to its session. A writer continues the event sequence after {@code lastSeq};
   * {@code deliveredSeq} is the last seq the client already has.
   */
  void session(String sessionId, long lastSeq, long deliveredSeq, boolean writer) {
    this.sessionId = sessionId;
    this.lastSeq = lastSeq;
    this.delivered = deliveredSeq;
    this.writer = writer;
    this.writing = writer;
  }

  /** The newest seq sent to this client. */
  long delivered() {
    return delivered;
  }

  void muted(boolean muted) {
    this.muted = muted;
  }

  boolean muted() {
    return muted;
  }

  /**
   * Stops making session events (the writer role is being handed over or the session ends);
   * later {@link #emit}s are dropped. The future completes when every event made so far is stored.
   */
  Future<Void> stopWriting() {
    writing = false;
    flushBatch(); // events of this very task too, not only those already on their way
    return drained();
  }

  /** Completes once every event made so far is stored (or the writer gave up on the log). */
  private Future<Void> drained() {
    if (unstored.isEmpty() && !appending) {
      return Future.succeededFuture();
    }
    Promise<Void> waiter = Promise.promise();
    drainWaiters.add(waiter);
    return waiter.future();
  }

  /** True while events wait for the log to come back. */
  boolean storageBehind() {
    return failingSince >= 0;
  }

  /** Makes a session event of {@code type}; nothing once this channel no longer writes. */
  void emit(String type, JsonObject fields) {
    if (!writing) {
      return;
    }
    long seq = ++lastSeq;
    JsonObject event = new JsonObject()
        .put("type", type)
        .put("seq", seq)
        .put("sessionId", sessionId)
        .put("ts", System.currentTimeMillis())
        .mergeIn(fields);
    String text = event.encode();
    write(seq, text);
    log(new LoggedEvent(seq, type, text));
  }

  /** An error the session's listeners should see too (an engine failed): a session event. */
  void error(ErrorCode code, String message) {
    MeshMetrics.error(code);
    JsonObject fields = new JsonObject().put("code", code.wire()).put("message", message);
    if (writer) {
      emit("error", fields);
    } else {
      reply("error", fields);
    }
  }

  /**
   * Something the session should know that is not a failure: a stage (`stt`, `tts`) is served by
   * its fallback engine. A session event, like errors of the engines.
   */
  void warning(String stage, String code, String message) {
    if (writer) {
      emit("warning", new JsonObject().put("stage", stage).put("code", code).put("message", message));
    }
  }

  /** An error about this connection's own input: a reply, not a session event. */
  void replyError(ErrorCode code, String message) {
    MeshMetrics.error(code);
    reply("error", new JsonObject().put("code", code.wire()).put("message", message));
  }

  /**
   * {@code session.ready}: the session is open and what the client missed has been sent.
   * {@code details} adds what only one kind of connection has (audio settings, for a speaker).
   */
  void ready(String role, boolean resumed, long replayed, String agent, String node, JsonObject details) {
    reply("session.ready", new JsonObject()
        .put("protocol", PROTOCOL)
        .put("role", role)
        .put("resumed", resumed)
        .put("lastSeq", delivered)
        .put("replayed", replayed)
        .put("agent", agent)
        .put("node", node)
        .put("outputSampleRate", Pcm16.DEFAULT_RATE_HZ)
        .mergeIn(details));
  }

  /**
   * Refuses the connection after it was accepted: the failure's error, then close: 1013 (try again
   * later) for a transient failure such as {@code storage_unavailable}, else 1008.
   */
  void refuse(Throwable failure) {
    MeshException error = MeshException.from(failure);
    replyError(error.code(), error.getMessage());
    socket.close((short) (error.code().isTransient() ? 1013 : 1008), error.code().wire());
  }

  /**
   * This gateway is stopping: an {@code error} reply {@code going_away} telling the client where it
   * stands ({@code resume: {sessionId, lastSeq}}, the newest event it was sent), then close 1001 with
   * the same hint in the reason. Another gateway (or this one, restarted) resumes the session from there.
   */
  void goAway(String message) {
    MeshMetrics.error(ErrorCode.GOING_AWAY);
    JsonObject fields = new JsonObject().put("code", ErrorCode.GOING_AWAY.wire()).put("message", message);
    String reason = ErrorCode.GOING_AWAY.wire();
    if (sessionId != null) {
      fields.put("resume", new JsonObject().put("sessionId", sessionId).put("lastSeq", delivered));
      String hint = reason + "; reconnect with ?sessionId=" + sessionId + "&lastSeq=" + delivered;
      // A close reason holds at most 123 bytes of UTF-8.
      if (hint.getBytes(java.nio.charset.StandardCharsets.UTF_8).length <= 123) {
        reason = hint;
      }
    }
    reply("error", fields);
    if (!socket.isClosed()) {
      socket.close((short) 1001, reason);
    }
  }

  /** A failed request of this connection, as an error reply with the failure's code. */
  void replyError(Throwable failure) {
    MeshException error = MeshException.from(failure);
    replyError(error.code(), error.getMessage());
  }

  /** A reply to this connection only. */
  void reply(String type, JsonObject fields) {
    if (sending()) {
      socket.writeTextMessage(new JsonObject().put("type", type).put("sessionId", sessionId)
          .put("ts", System.currentTimeMillis()).mergeIn(fields).encode());
      checkWriteQueue();
    }
  }

  /** Whether frames still go to the socket: not once it closed, nor once its client was found not to read. */
  private boolean sending() {
    return !slow && !socket.isClosed();
  }

  /**
   * A client that does not read — speaker or listener, whatever fills its queue — is let go rather
   * than buffered for without bound (it can resume); nothing more is queued for it meanwhile.
   */
  private void checkWriteQueue() {
    if (!slow && !socket.isClosed() && socket.writeQueueFull()) {
      onLost.accept(ErrorCode.SLOW_CONSUMER);
      slow = true;
    }
  }

  /** A session event made elsewhere; sent only if it is the next one this client needs. */
  boolean deliver(long seq, String text) {
    if (seq != delivered + 1) {
      return false;
    }
    write(seq, text);
    return true;
  }

  /** Gives up on events up to {@code seq} that can no longer be found (their writer died before storing them). */
  void skipTo(long seq) {
    delivered = Math.max(delivered, seq);
  }

  private void write(long seq, String text) {
    delivered = Math.max(delivered, seq);
    if (sending()) {
      socket.writeTextMessage(text);
      checkWriteQueue();
    }
  }

  /** Agent audio: PCM16LE to this client unless it muted the agent; published for the session's listeners. */
  void audio(Buffer pcm) {
    if (!muted && sending()) {
      socket.writeBinaryMessage(pcm);
      checkWriteQueue();
    }
    if (writer) {
      bus.publish(Addresses.sessionAudio(sessionId), pcm);
    }
  }

  /** Agent audio published by the session's writer, for a listener. */
  void listenerAudio(Buffer pcm) {
    // Audio is dropped for a listener that falls behind; its events (checked in write) decide whether it stays.
    if (!muted && sending() && !socket.writeQueueFull()) {
      socket.writeBinaryMessage(pcm);
    }
  }

  // Events made in one event-loop task travel to the log as one append.
  private void log(LoggedEvent event) {
    if (batch.isEmpty()) {
      vertx.runOnContext(v -> flushBatch());
    }
    batch.add(event);
  }

  private void flushBatch() {
    List<LoggedEvent> events = batch;
    batch = new ArrayList<>();
    if (events.isEmpty() || storageLost) {
      return;
    }
    for (LoggedEvent event : events) {
      unstored.addLast(event);
      unstoredBytes += event.json().length();
    }
    if (unstored.size() > settings.outageBufferEvents() || unstoredBytes > settings.outageBufferBytes()) {
      giveUp("more than " + settings.outageBufferEvents() + " events or " + settings.outageBufferBytes()
          + " bytes wait for the event log");
      return;
    }
    appendNext();
  }

  /** Sends the oldest unstored events, unless an append is on its way already: one at a time, in order. */
  private void appendNext() {
    if (appending || storageLost) {
      return;
    }
    if (unstored.isEmpty()) {
      drainWaiters.forEach(Promise::tryComplete);
      drainWaiters.clear();
      return;
    }
    appending = true;
    List<LoggedEvent> head = new ArrayList<>(Math.min(unstored.size(), APPEND_MAX_EVENTS));
    for (LoggedEvent event : unstored) {
      if (head.size() == APPEND_MAX_EVENTS) {
        break;
      }
      head.add(event);
    }
    store(new EventAppend(sessionId, connectionId, head), 1);
  }

  private void store(EventAppend append, int attempt) {
    long sentAt = System.nanoTime();
    Bus.request(bus, Addresses.SESSION_EVENTS_APPEND, append, EventAppended.class, settings.sessionTimeoutMs())
        .onComplete(outcome -> {
          if (storageLost) {
            return;
          }
          if (outcome.succeeded()) {
            stored(append, outcome.result());
            return;
          }
          MeshException error = MeshException.from(outcome.cause());
          long now = System.nanoTime();
          if (failingSince < 0) {
            failingSince = sentAt; // the log has not taken anything since this attempt went out
            LOG.warn("session {}: the event log does not take events ({}: {}); keeping them, in order, for up to {} ms",
                sessionId, error.code().wire(), error.getMessage(), settings.outageBufferMs());
          }
          if (!error.code().isTransient()) {
            giveUp("the event log refused them: " + error.code().wire());
          } else if ((now - failingSince) / 1_000_000 >= settings.outageBufferMs()) {
            giveUp("the event log did not take them for " + settings.outageBufferMs() + " ms");
          } else {
            long pauseMs = Math.min(APPEND_RETRY_MAX_MS, APPEND_RETRY_FIRST_MS << Math.min(attempt - 1, 4));
            vertx.setTimer(pauseMs, t -> store(append, attempt + 1));
          }
        });
  }

  private void stored(EventAppend append, EventAppended reply) {
    if (failingSince >= 0) {
      LOG.info("session {}: the event log takes events again after {} ms; {} waited", sessionId,
          (System.nanoTime() - failingSince) / 1_000_000, unstored.size());
      failingSince = -1;
    }
    appending = false;
    if (!reply.writer()) {
      // Another connection holds the writer role now (or the session ended): stop writing.
      writing = false;
      storageLost = true;
      unstored.clear();
      releaseDrainWaiters();
      onLost.accept(ErrorCode.TAKEN_OVER);
      return;
    }
    // Stored: now listeners may see them, in order.
    for (LoggedEvent event : append.events()) {
      LoggedEvent head = unstored.pollFirst();
      unstoredBytes -= head.json().length();
      bus.publish(Addresses.sessionEvents(sessionId), event.json(), event.toDeliveryOptions());
    }
    appendNext();
  }

  /** The log cannot take this writer's events: a hole in it would stall every resume and listener, so the writer stops. */
  private void giveUp(String why) {
    LOG.error("session {}: events {}..{} were not stored: {}", sessionId, unstored.peekFirst().seq(),
        unstored.peekLast().seq(), why);
    MeshMetrics.error(ErrorCode.STORAGE_UNAVAILABLE);
    writing = false;
    storageLost = true;
    appending = false;
    unstored.clear();
    unstoredBytes = 0;
    releaseDrainWaiters();
    onLost.accept(ErrorCode.STORAGE_UNAVAILABLE);
  }

  private void releaseDrainWaiters() {
    drainWaiters.forEach(Promise::tryComplete);
    drainWaiters.clear();
  }
}
