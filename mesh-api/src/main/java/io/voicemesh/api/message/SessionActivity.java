package io.voicemesh.api.message;

import io.vertx.core.json.JsonObject;

/**
 * One message on {@code dashboard.sessions}: a session started or ended, or one of its turns
 * completed. {@code ts} is epoch ms. For {@code turn.completed}: {@code turnId}, {@code interrupted},
 * the turn's {@code timings} and {@code servedBy} exactly as its {@code agent_completed} event holds
 * them, and {@code error} when the turn failed; for {@code session.ended}: its {@code reason}.
 * Absent fields are left out of the JSON.
 */
public record SessionActivity(String type, String sessionId, String user, String agent, long ts, String reason,
    String turnId, Boolean interrupted, JsonObject timings, JsonObject servedBy, JsonObject error) {

  public static final String SESSION_STARTED = "session.started";
  public static final String SESSION_ENDED = "session.ended";
  public static final String TURN_COMPLETED = "turn.completed";

  public static SessionActivity started(String sessionId, String user, String agent, long ts) {
    return new SessionActivity(SESSION_STARTED, sessionId, user, agent, ts, null, null, null, null, null, null);
  }

  public static SessionActivity ended(String sessionId, String user, String agent, long ts, String reason) {
    return new SessionActivity(SESSION_ENDED, sessionId, user, agent, ts, reason, null, null, null, null, null);
  }

  /** A {@code turn.completed} from the session's stored {@code agent_completed} event. */
  public static SessionActivity turnCompleted(String sessionId, String user, String agent, JsonObject agentCompleted) {
    return new SessionActivity(TURN_COMPLETED, sessionId, user, agent, agentCompleted.getLong("ts", 0L), null,
        agentCompleted.getString("turnId"), agentCompleted.getBoolean("interrupted", false),
        agentCompleted.getJsonObject("timings"), agentCompleted.getJsonObject("servedBy"),
        agentCompleted.getJsonObject("error"));
  }
}
