package io.voicemesh.gateway;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.json.JsonObject;
import io.voicemesh.api.Addresses;
import io.voicemesh.api.ErrorCode;
import io.voicemesh.api.MeshException;
import io.voicemesh.api.message.SessionInfo;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * A {@code role=listener} connection: it receives a session's events (gapless, from {@code lastSeq}
 * when given) and the agent's audio, and may ask for {@code session.status}, {@code ping}, and
 * mute/unmute the agent audio. Anything that would steer the session — audio, commits, cancels,
 * settings — is refused with {@code forbidden}.
 */
final class ListenerConnection {
  private static final Set<String> SPEAKER_ONLY = Set.of("session.update", "input.commit", "response.cancel",
      "playback.mark");

  private final Vertx vertx;
  private final ServerWebSocket socket;
  private final GatewaySettings settings;
  private final SessionDirectory sessions;
  private final Runnable onClosed;
  private final String connectionId = UUID.randomUUID().toString();
  private final ClientChannel client;
  private final RateLimiter textLimit;
  private final TextCommands commands;
  private final SocketGuard guard;
  private SessionInfo session;
  private SessionFeed feed;
  private MessageConsumer<Buffer> audio;
  private Participants.Lease participant;
  private boolean closed;

  ListenerConnection(Vertx vertx, ServerWebSocket socket, GatewaySettings settings, SessionDirectory sessions,
      Runnable onClosed) {
    this.vertx = vertx;
    this.socket = socket;
    this.settings = settings;
    this.sessions = sessions;
    this.onClosed = onClosed;
    this.client = new ClientChannel(vertx, socket, connectionId, settings, this::tooSlow);
    this.guard = new SocketGuard(vertx, socket, client, settings);
    Map<String, Handler<JsonObject>> allowed = new HashMap<>(Map.of(
        "ping", this::ping,
        "session.status", m -> status(),
        "control", this::control));
    SPEAKER_ONLY.forEach(type -> allowed.put(type, m -> {
      throw new MeshException(ErrorCode.FORBIDDEN, "listeners may not send '" + type + "'");
    }));
    this.commands = new TextCommands(client, allowed);
    this.textLimit = new RateLimiter(settings.textMessagesPerSecond(), settings.textMessagesPerSecond());
  }

  Future<Void> start(SessionInfo info, VoiceRequest request) {
    this.session = info;
    socket.pause();
    socket.closeHandler(v -> close());
    socket.exceptionHandler(e -> close());
    socket.frameHandler(guard.watching(MessageAssembler.forClient(settings, client, guard, this::onText,
        pcm -> client.replyError(ErrorCode.FORBIDDEN, "listeners may not send audio"))));
    long clientHas = request.lastSeq() == null ? info.lastSeq() : Math.min(request.lastSeq(), info.lastSeq());
    client.session(info.sessionId(), 0, clientHas, false);
    feed = new SessionFeed(vertx, client, info.sessionId(), settings.sessionTimeoutMs(),
        SessionEventLog.appendBudgetMs(settings),
        () -> socket.close((short) 1000, ErrorCode.SESSION_ENDED.wire()));
    audio = vertx.eventBus().consumer(Addresses.sessionAudio(info.sessionId()), m -> client.listenerAudio(m.body()));
    return audio.completion()
        .compose(v -> feed.start())
        .onSuccess(replayed -> {
          if (closed) {
            releaseResources();
            return;
          }
          participant = Participants.join(vertx, info.sessionId(), connectionId, "listener", settings.node());
          client.ready("listener", true, replayed, info.agent(), settings.node(), new JsonObject());
          socket.resume();
        })
        .<Void>mapEmpty()
        .onFailure(e -> {
          if (closed) {
            releaseResources();
          } else {
            client.refuse(e);
          }
        });
  }

  /**
   * This gateway is stopping: {@code going_away} with the newest event this listener has, then
   * close 1001; it resumes on another gateway with {@code lastSeq} and misses nothing.
   */
  void goAway() {
    if (!closed) {
      client.goAway("this gateway is shutting down; reconnect with sessionId and lastSeq to follow the session on");
    }
  }

  private void onText(String text) {
    if (textLimit.tryAcquire(1)) {
      commands.handle(text);
    }
  }

  /** The channel's only loss for a listener: it does not read what it is sent. */
  private void tooSlow(ErrorCode why) {
    guard.slowConsumer();
  }

  private void ping(JsonObject m) {
    client.reply("pong", new JsonObject().put("id", m.getValue("id")));
  }

  private void control(JsonObject m) {
    switch (String.valueOf(m.getValue("action"))) {
      case "mute" -> client.muted(true);
      case "unmute" -> client.muted(false);
      case "pause", "resume" -> throw new MeshException(ErrorCode.FORBIDDEN, "only the speaker pauses its audio");
      default -> throw new MeshException(ErrorCode.BAD_REQUEST, "control action must be mute or unmute");
    }
  }

  private void status() {
    sessions.status(session.sessionId())
        .onSuccess(status -> client.reply("session.status", status.put("role", "listener")
            .put("connectionId", connectionId).put("muted", client.muted())))
        .onFailure(client::replyError);
  }

  private void close() {
    if (closed) {
      return;
    }
    closed = true;
    guard.stop();
    onClosed.run();
    releaseResources();
  }

  /** Unregisters what the connection registered (also what a start still in flight registers after a close). */
  private void releaseResources() {
    if (participant != null) {
      participant.leave();
    }
    if (feed != null) {
      feed.close();
    }
    if (audio != null) {
      audio.unregister();
    }
  }
}
