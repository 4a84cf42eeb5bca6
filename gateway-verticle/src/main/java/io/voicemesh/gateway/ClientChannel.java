package io.voicemesh.gateway;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.json.JsonObject;
import io.voicemesh.api.Addresses;
import io.voicemesh.api.ErrorCode;
import io.voicemesh.api.MeshException;
import io.voicemesh.api.MeshMetrics;
import io.voicemesh.api.audio.Pcm16;
import io.voicemesh.api.event.ConversationEvent;
import io.voicemesh.api.message.LoggedEvent;
import java.util.function.Consumer;

/**
 * The server side of the wire protocol for one connection. Two kinds of text frame:
 * <ul>
 *   <li><b>Session events</b> carry the session's next {@code seq} (1, 2, 3, … with no gap, shared
 *       by every connection of the session). Only the session's writer — its speaker connection —
 *       makes them, through its {@link SessionEventLog}: each goes to its client at once, and the
 *       log stores it and, once stored, publishes it on {@code session.<id>.events} for listeners
 *       and dashboards — so they only ever see the history the log holds.</li>
 *   <li><b>Replies</b> to this connection ({@code session.ready}, {@code pong}, {@code session.status},
 *       errors about its own input) carry no {@code seq} and are not logged.</li>
 * </ul>
 * Session events from elsewhere (the log on resume, other connections' writers) are {@link #deliver}ed
 * in seq order; each seq reaches the socket at most once.
 *
 * <p>The log may be away (the database restarts or stalls): conversations go on; listeners, who see
 * only stored events, lag (see {@link SessionEventLog}).
 *
 * <p>What reaches the socket is the {@link Renderer}'s business: {@code voicemesh.v1} by default
 * (the logged JSON as it is, PCM16 audio as binary frames); another wire protocol renders the same
 * events, replies and audio into its own messages.
 */
final class ClientChannel {
  /** The wire protocol's version, announced in {@code session.ready}. */
  static final String PROTOCOL = "voicemesh.v1";
  private final ServerWebSocket socket;
  private final EventBus bus;
  private final Consumer<ErrorCode> onLost;
  /** The session's event log, written through this connection while it is the writer. */
  private final SessionEventLog log;
  private String sessionId;
  private boolean writer;
  private long delivered;
  private boolean muted;
  private boolean slow;
  private Renderer renderer = new VoiceMeshRenderer();

  /** How one wire protocol shows the conversation to its client. */
  interface Renderer {
    /** A session event this connection made; {@code logged} is its stored ({@code voicemesh.v1}) form. */
    void event(ConversationEvent event, LoggedEvent logged);

    /** A session event made elsewhere (replayed from the log, or by another writer), in its stored form. */
    void logged(long seq, String json);

    /** A reply to this connection only, in the {@code voicemesh.v1} vocabulary. */
    void reply(String type, JsonObject fields);

    /** Agent audio: PCM16LE at {@link Pcm16#DEFAULT_RATE_HZ}. */
    void audio(Buffer pcm);
  }

  /**
   * {@code onLost} is told when this connection can no longer serve its session: {@code taken_over}
   * (another writer holds the session), {@code storage_unavailable} (events could not be stored
   * within the outage bound), or {@code slow_consumer} (a client that does not read what it is sent:
   * its write queue is full).
   */
  ClientChannel(Vertx vertx, ServerWebSocket socket, String connectionId, GatewaySettings settings,
      Consumer<ErrorCode> onLost) {
    this.socket = socket;
    this.bus = vertx.eventBus();
    this.onLost = onLost;
    this.log = new SessionEventLog(vertx, connectionId, settings, onLost);
  }

  /**
   * Binds the channel to its session. A writer continues the event sequence after {@code lastSeq};
   * {@code deliveredSeq} is the last seq the client already has.
   */
  void session(String sessionId, long lastSeq, long deliveredSeq, boolean writer) {
    this.sessionId = sessionId;
    this.delivered = deliveredSeq;
    this.writer = writer;
    if (writer) {
      log.open(sessionId, lastSeq);
    }
  }

  /** Renders this connection's messages in another wire protocol than {@code voicemesh.v1}. */
  void render(Renderer renderer) {
    this.renderer = renderer;
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
    return log.stopWriting();
  }

  /** True while events wait for the log to come back. */
  boolean storageBehind() {
    return log.storageBehind();
  }

  /** Makes a session event and sends it to this client; nothing once this channel no longer writes. */
  void emit(ConversationEvent event) {
    LoggedEvent logged = log.append(event.type(), event.fields());
    if (logged != null) {
      delivered = Math.max(delivered, logged.seq());
      renderer.event(event, logged);
    }
  }

  /** An error the session's listeners should see too (an engine failed): a session event. */
  void error(ErrorCode code, String message) {
    MeshMetrics.error(code);
    if (writer) {
      emit(new ConversationEvent.Error(code, message));
    } else {
      reply("error", new JsonObject().put("code", code.wire()).put("message", message));
    }
  }

  /**
   * Something the session should know that is not a failure: a stage (`stt`, `tts`) is served by
   * its fallback engine. A session event, like errors of the engines.
   */
  void warning(String stage, String code, String message) {
    if (writer) {
      emit(new ConversationEvent.Warning(stage, code, message));
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
    renderer.reply(type, fields);
  }

  /** A text message to the client, unless it is gone or found not to read. */
  void sendText(String text) {
    if (sending()) {
      socket.writeTextMessage(text);
      checkWriteQueue();
    }
  }

  /** A binary message to the client, unless it is gone or found not to read. */
  void sendBinary(Buffer data) {
    if (sending()) {
      socket.writeBinaryMessage(data);
      checkWriteQueue();
    }
  }

  String sessionId() {
    return sessionId;
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
    renderer.logged(seq, text);
  }

  /** Agent audio: PCM16LE to this client unless it muted the agent; published for the session's listeners. */
  void audio(Buffer pcm) {
    if (!muted) {
      renderer.audio(pcm);
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

  /** {@code voicemesh.v1}: session events as the log holds them, replies as JSON, audio as binary PCM16. */
  private final class VoiceMeshRenderer implements Renderer {
    @Override
    public void event(ConversationEvent event, LoggedEvent logged) {
      sendText(logged.json());
    }

    @Override
    public void logged(long seq, String json) {
      sendText(json);
    }

    @Override
    public void reply(String type, JsonObject fields) {
      sendText(new JsonObject().put("type", type).put("sessionId", sessionId)
          .put("ts", System.currentTimeMillis()).mergeIn(fields).encode());
    }

    @Override
    public void audio(Buffer pcm) {
      sendBinary(pcm);
    }
  }
}
