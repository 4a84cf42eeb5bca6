package io.voicemesh.gateway;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.voicemesh.api.ErrorCode;
import io.voicemesh.api.MeshException;
import io.voicemesh.api.Role;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/** The gateway's configuration, read and checked once at start. */
record GatewaySettings(
    String host,
    int port,
    String node,
    String defaultAgent,
    List<Role> requiredRoles,
    int maxBinaryFrameBytes,
    int maxTextFrameBytes,
    double audioRealtimeFactor,
    int textMessagesPerSecond,
    int defaultSilenceMs,
    int defaultMinSpeechMs,
    int contextMessages,
    long playoutLeadMs,
    long sessionTimeoutMs,
    long sttOpenTimeoutMs,
    long llmAckTimeoutMs,
    long llmIdleTimeoutMs,
    long ttsSentenceTimeoutMs,
    long toolWaitMs,
    long takeoverMs,
    int sttOpenAttempts,
    long sttReplayMs,
    boolean sttStandby,
    long sessionTokenTtlSeconds,
    long outageBufferMs,
    int outageBufferEvents,
    long outageBufferBytes,
    int connectionsPerUser,
    int sessionsPerUser,
    long sessionIdleEndMs,
    long idleTimeoutMs,
    long headerTimeoutMs,
    int writeQueueBytes,
    Set<String> agents,
    List<String> backchannels,
    long falseInterruptionMs,
    String tlsCertPath,
    String tlsKeyPath,
    String defaultEagerness) {

  /** Frames above this are refused by the WebSocket layer itself (close 1009), before we see them. */
  static final int HARD_FRAME_LIMIT_BYTES = 1 << 20;
  /** An STT node queues at most 20 s of audio per stream; a replay must fit with live audio behind it. */
  static final long MAX_REPLAY_MS = 15_000;
  /** The longest an answer may wait, paused, for the words of speech that may interrupt it. */
  static final long MAX_FALSE_INTERRUPTION_MS = 5_000;
  /** Whether the gateway serves HTTPS and WSS (the launcher resolved the PEM files). */
  boolean tls() {
    return !tlsCertPath.isBlank();
  }

  /** What an agent may be called: it travels in URLs, logs and the sessions table. */
  static final Pattern AGENT_NAME = Pattern.compile("[A-Za-z0-9_.-]{1,64}");

  /**
   * How often the node tells the session role which sessions it has connections to: a quarter of
   * {@code session.idleEndMs}, at most a minute, so a connected session is touched several times
   * before it could count as idle. 0: sessions never end as idle, nothing to touch.
   */
  long sessionTouchMs() {
    return sessionIdleEndMs == 0 ? 0 : Math.max(100, Math.min(60_000, sessionIdleEndMs / 4));
  }

  static GatewaySettings from(JsonObject c) {
    JsonObject limits = c.getJsonObject("limits", new JsonObject());
    JsonObject timeouts = c.getJsonObject("timeouts", new JsonObject());
    JsonObject failover = c.getJsonObject("failover", new JsonObject());
    JsonObject storage = c.getJsonObject("storage", new JsonObject());
    List<Role> roles = c.getJsonArray("requiredRoles", new JsonArray().add("session").add("stt").add("llm").add("tts"))
        .stream().map(r -> Role.of(r.toString())).toList();
    GatewaySettings s = new GatewaySettings(
        c.getString("host", "0.0.0.0"),
        c.getInteger("port", 8080),
        c.getString("node", "local"),
        c.getString("defaultAgent", "default"),
        roles,
        limits.getInteger("maxBinaryFrameBytes", 64 * 1024),
        limits.getInteger("maxTextFrameBytes", 16 * 1024),
        limits.getDouble("audioRealtimeFactor", 4.0),
        limits.getInteger("textMessagesPerSecond", 50),
        c.getInteger("silenceMs", 600),
        c.getInteger("minSpeechMs", 300),
        c.getInteger("contextMessages", 20),
        c.getLong("playoutLeadMs", 300L),
        timeouts.getLong("sessionMs", 5_000L),
        timeouts.getLong("sttOpenMs", 2_000L),
        timeouts.getLong("llmAckMs", 5_000L),
        timeouts.getLong("llmIdleMs", 30_000L),
        timeouts.getLong("ttsSentenceMs", 15_000L),
        timeouts.getLong("toolWaitMs", 15_000L),
        timeouts.getLong("takeoverMs", 5_000L),
        failover.getInteger("sttOpenAttempts", 3),
        failover.getLong("sttReplayMs", 10_000L),
        failover.getBoolean("sttStandby", true),
        c.getJsonObject("auth", new JsonObject()).getLong("sessionTokenTtlSeconds", 3_600L),
        storage.getLong("outageBufferMs", 60_000L),
        storage.getInteger("outageBufferEvents", 10_000),
        storage.getLong("outageBufferBytes", 8L * 1024 * 1024),
        limits.getInteger("connectionsPerUser", 10),
        limits.getInteger("sessionsPerUser", 5),
        // The session role's setting (session.idleEndMs): the gateway touches its sessions well within it.
        c.getJsonObject("session", new JsonObject()).getLong("idleEndMs", 1_800_000L),
        limits.getLong("idleTimeoutMs", 120_000L),
        limits.getLong("headerTimeoutMs", 10_000L),
        limits.getInteger("writeQueueBytes", 128 * 1024),
        // The agents the LLM role is configured with (the launcher passes their names); empty: not
        // known here (a gateway embedded without the launcher), and any well-formed name is accepted.
        Set.copyOf(c.getJsonArray("agents", new JsonArray()).stream().map(String::valueOf).toList()),
        // As configured; BargeIn normalises them ("Uh-huh" → "uh huh").
        c.getJsonObject("bargeIn", new JsonObject())
            .getJsonArray("backchannels", new JsonArray(BargeIn.DEFAULT_BACKCHANNELS)).stream().map(String::valueOf).toList(),
        c.getJsonObject("bargeIn", new JsonObject()).getLong("falseInterruptionMs", 1_000L),
        c.getJsonObject("tls", new JsonObject()).getString("certPath", ""),
        c.getJsonObject("tls", new JsonObject()).getString("keyPath", ""),
        c.getString("eagerness", "auto"));
    if (s.port < 0 || s.maxBinaryFrameBytes <= 0 || s.maxBinaryFrameBytes > HARD_FRAME_LIMIT_BYTES
        || s.maxTextFrameBytes <= 0 || s.audioRealtimeFactor < 1 || s.textMessagesPerSecond <= 0
        || s.defaultSilenceMs < 100 || s.defaultMinSpeechMs < 20 || s.playoutLeadMs < 0
        || s.sttOpenAttempts < 1 || s.sttReplayMs < 1_000 || s.sttReplayMs > MAX_REPLAY_MS
        || s.outageBufferMs < 0 || s.outageBufferEvents < 1 || s.outageBufferBytes < 1
        || s.connectionsPerUser < 1 || s.sessionsPerUser < 1
        || s.sessionIdleEndMs < 0 || (s.sessionIdleEndMs > 0 && s.sessionIdleEndMs < 1_000)
        || s.idleTimeoutMs < 1_000 || s.headerTimeoutMs < 100 || s.writeQueueBytes < 16 * 1024
        || s.falseInterruptionMs < 0 || s.falseInterruptionMs > MAX_FALSE_INTERRUPTION_MS
        || s.tlsCertPath.isBlank() != s.tlsKeyPath.isBlank()
        || TurnSilence.of(s.defaultEagerness, s.defaultSilenceMs) == null) {
      throw new IllegalArgumentException("invalid gateway configuration: " + s);
    }
    for (String agent : s.agents) {
      if (!AGENT_NAME.matcher(agent).matches()) {
        throw new IllegalArgumentException("agent names are 1 to 64 of A-Z a-z 0-9 _ . - : '" + agent + "'");
      }
    }
    if (!AGENT_NAME.matcher(s.defaultAgent).matches() || !s.agents.isEmpty() && !s.agents.contains(s.defaultAgent)) {
      throw new IllegalArgumentException("gateway.defaultAgent '" + s.defaultAgent + "' is not one of the agents "
          + s.agents.stream().sorted().toList());
    }
    return s;
  }

  /**
   * The agent a client asked for (null: the default): refused with {@code bad_request} unless it is
   * a well-formed name, with {@code agent_not_found} unless the LLM role is configured with it.
   */
  String agent(String requested) {
    if (requested == null) {
      return defaultAgent;
    }
    if (!AGENT_NAME.matcher(requested).matches()) {
      throw new MeshException(ErrorCode.BAD_REQUEST,
          "agent must be 1 to 64 of A-Z a-z 0-9 _ . -");
    }
    if (!agents.isEmpty() && !agents.contains(requested)) {
      throw new MeshException(ErrorCode.AGENT_NOT_FOUND,
          "no agent named '" + requested + "'; this mesh has " + agents.stream().sorted().toList());
    }
    return requested;
  }
}
