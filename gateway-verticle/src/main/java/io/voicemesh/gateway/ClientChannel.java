package io.voicemesh.gateway;

import io.vertx.core.Future;
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
 */
final class ClientChannel {
  private static final Logger LOG = LoggerFactory.getLogger(ClientChannel.class);
  /** The wire protocol's version, announced in {@code session.ready}. */
  static final String PROTOCOL = "voicemesh.v1";
  private static final int APPEND_ATTEMPTS = 3;
  private static final long APPEND_RETRY_MS = 250;

  private final Vertx vertx;
  private final ServerWebSocket socket;
  private final EventBus bus;
  private final String connectionId;
  private final long appendTimeoutMs;
  private final Consumer<ErrorCode> onLost;
  private String sessionId;
  private boolean writer;
  private boolean writing;
  private long lastSeq;
  private long delivered;
  private boolean muted;
  private boolean slow;
  private List<LoggedEvent> batch = new ArrayList<>();
  private Future<Void> appended = Future.succeededFuture();

  /**
   * {@code onLost} is told when this connection can no longer serve its session: {@code taken_over}
   * (another writer holds the session), {@code internal} (events could not be stored), or
   * {@code slow_consumer} (a client that does not read what it is sent: its write queue is full).
   */
  ClientChannel(Vertx vertx, ServerWebSocket socket, String connectionId, long appendTimeoutMs,
      Consumer<ErrorCode> onLost) {
    this.vertx = vertx;
    this.socket = socket;
    this.bus = vertx.eventBus();
    this.connectionId = connectionId;
    this.appendTimeoutMs = appendTimeoutMs;
    this.onLost = onLost;
  }

  /** The longest a writer may take to store a batch, retries included: how long a gap is worth waiting for. */
  static long appendBudgetMs(long appendTimeoutMs) {
    return APPEND_ATTEMPTS * appendTimeoutMs + APPEND_RETRY_MS * APPEND_ATTEMPTS * (APPEND_ATTEMPTS - 1) / 2 + 1_000;
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
    return appended;
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

  /** Refuses the connection after it was accepted: the failure's error, then close (1008). */
  void refuse(Throwable failure) {
    MeshException error = MeshException.from(failure);
    replyError(error.code(), error.getMessage());
    socket.close((short) 1008, error.code().wire());
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
    if (events.isEmpty()) {
      return;
    }
    Future<Void> stored = store(new EventAppend(sessionId, connectionId, events), 1);
    appended = Future.join(appended, stored).mapEmpty();
  }

  private Future<Void> store(EventAppend append, int attempt) {
    return Bus.request(bus, Addresses.SESSION_EVENTS_APPEND, append, EventAppended.class, appendTimeoutMs)
        .<Void>map(reply -> {
          if (!reply.writer()) {
            // Another connection holds the writer role now (or the session ended): stop writing.
            writing = false;
            onLost.accept(ErrorCode.TAKEN_OVER);
            return null;
          }
          // Stored: now listeners may see them, in order.
          for (LoggedEvent event : append.events()) {
            bus.publish(Addresses.sessionEvents(sessionId), event.json(), event.toDeliveryOptions());
          }
          return null;
        })
        .recover(e -> {
          if (attempt >= APPEND_ATTEMPTS) {
            // A hole in the log would stall every resume and listener: this writer stops instead.
            LOG.error("session {}: events {}..{} were not stored: {}", sessionId, append.events().get(0).seq(),
                append.events().get(append.events().size() - 1).seq(), e.getMessage());
            MeshMetrics.error(ErrorCode.INTERNAL);
            writing = false;
            onLost.accept(ErrorCode.INTERNAL);
            return Future.succeededFuture();
          }
          Future<Void> retry = Future.future(p -> vertx.setTimer(APPEND_RETRY_MS * attempt, t -> p.complete()));
          return retry.compose(v -> store(append, attempt + 1));
        });
  }
}
