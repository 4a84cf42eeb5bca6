package io.voicemesh.gateway;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.voicemesh.api.Addresses;
import io.voicemesh.api.Bus;
import io.voicemesh.api.Json;
import io.voicemesh.api.message.SessionEnd;
import io.voicemesh.api.message.SessionGet;
import io.voicemesh.api.message.SessionInfo;
import io.voicemesh.api.message.WriterRelease;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import java.time.Instant;

/** The gateway's view of sessions: reads them from the session role and shapes their status for clients. */
final class SessionDirectory {
  private final Vertx vertx;
  private final EventBus bus;
  private final GatewaySettings settings;

  SessionDirectory(Vertx vertx, GatewaySettings settings) {
    this.vertx = vertx;
    this.bus = vertx.eventBus();
    this.settings = settings;
  }

  Future<SessionInfo> get(String sessionId) {
    return Bus.request(bus, Addresses.SESSION_GET, new SessionGet(sessionId), SessionInfo.class,
        settings.sessionTimeoutMs());
  }

  /** The status of the session with this id, with its live participants. */
  Future<JsonObject> status(String sessionId) {
    return get(sessionId).compose(this::status);
  }

  /** A session's status with its live participants, as REST and {@code session.status} report it. */
  Future<JsonObject> status(SessionInfo info) {
    return Participants.of(vertx, info.sessionId())
        .otherwise(e -> new JsonArray())
        .map(participants -> summary(info).put("participants", participants));
  }

  /**
   * Asks the session's current writer, if any, to stop and store its events, waiting as long as that
   * may take: then nothing else writes while another connection takes over or the session ends. (A
   * writer that does not answer — its node died — is fenced out by the store anyway.)
   *
   * <p>The question is asked again every {@value #RELEASE_ASK_EVERY_MS} ms: a request to a node
   * that just died is not failed by the event bus, only timed out, while a new one gets "no
   * handlers" as soon as the cluster has dropped the dead node's addresses. A live writer answers
   * every ask once it is done (letting go is idempotent).
   */
  Future<Void> releaseWriter(String sessionId, String reason) {
    // The writer waits up to takeoverMs for its turn, then for its last appends (retries included).
    long deadline = System.currentTimeMillis() + settings.takeoverMs()
        + SessionEventLog.appendBudgetMs(settings);
    return askToRelease(sessionId, Json.encode(new WriterRelease(reason)), deadline);
  }

  private static final long RELEASE_ASK_EVERY_MS = 1_000;

  private Future<Void> askToRelease(String sessionId, JsonObject release, long deadline) {
    long left = deadline - System.currentTimeMillis();
    return bus.request(Addresses.sessionWriter(sessionId), release,
            new DeliveryOptions().setSendTimeout(Math.max(1, Math.min(left, RELEASE_ASK_EVERY_MS))))
        .<Void>mapEmpty()
        .recover(e -> e instanceof ReplyException reply && reply.failureType() == ReplyFailure.TIMEOUT
            && System.currentTimeMillis() < deadline
            ? askToRelease(sessionId, release, deadline) : Future.succeededFuture());
  }

  /** Ends a session: its writer stops first, then the store logs {@code session.ended} and every connection closes. */
  Future<SessionInfo> end(String sessionId) {
    return releaseWriter(sessionId, "session_ended")
        .compose(v -> Bus.request(bus, Addresses.SESSION_END, new SessionEnd(sessionId), SessionInfo.class,
            settings.sessionTimeoutMs()));
  }

  /** The status fields every listing shows. */
  static JsonObject summary(SessionInfo info) {
    return new JsonObject()
        .put("sessionId", info.sessionId())
        .put("state", info.status())
        .put("agent", info.agent())
        .put("turns", info.turns())
        .put("createdAt", iso(info.createdAt()))
        .put("lastActivity", iso(info.lastActivity()))
        .put("endedAt", info.endedAt() == 0 ? null : iso(info.endedAt()))
        .put("lastSeq", info.lastSeq())
        .put("metadata", info.metadata() == null ? new JsonObject() : info.metadata());
  }

  private static String iso(long epochMillis) {
    return Instant.ofEpochMilli(epochMillis).toString();
  }
}
