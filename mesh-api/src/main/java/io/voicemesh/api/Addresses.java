package io.voicemesh.api;

/**
 * Every event-bus address of the mesh, defined once. Fixed addresses are served by any node of a
 * role (point-to-point sends are round-robined across nodes); per-session and per-connection
 * addresses are registered by the one node that owns that session or connection.
 */
public final class Addresses {
  private Addresses() {
  }

  /** {@code SessionOpen} → {@code SessionInfo}: get or create a session. */
  public static final String SESSION_OPEN = "session.open";
  /** {@code MessageAppend} → empty reply once stored. */
  public static final String SESSION_MESSAGE_ADD = "session.message.add";
  /** {@code MessageDelete}: a message leaves the history the model sees (the event log keeps what was said). */
  public static final String SESSION_MESSAGE_DELETE = "session.message.delete";
  /** {@code ContextRequest} → {@code ContextReply}: the most recent messages, oldest first. */
  public static final String SESSION_CONTEXT = "session.context";
  /** {@code SessionEnd} → {@code SessionInfo}: marks a session ended. */
  public static final String SESSION_END = "session.end";
  /** {@code SessionGet} → {@code SessionInfo}. */
  public static final String SESSION_GET = "session.get";
  /** {@code SessionList} → {@code SessionPage}: one user's sessions. */
  public static final String SESSION_LIST = "session.list";
  /** {@code EventAppend} → {@code EventAppended}: the writer's events into the session's event log. */
  public static final String SESSION_EVENTS_APPEND = "session.events.append";
  /** {@code EventReplay} → {@code EventPage}: logged events after a seq, for resume. */
  public static final String SESSION_EVENTS_REPLAY = "session.events.replay";

  /**
   * {@code SessionTouch}, sent (no reply) by each gateway node every few minutes: these sessions have a
   * connection, so the session role does not end them as idle.
   */
  public static final String SESSION_TOUCH = "session.touch";

  /** {@code SttOpen} → {@code SttOpened}: an STT worker takes the session's audio stream. */
  public static final String STT_OPEN = "stt.open";

  /** {@code GenerateRequest} → {@code LlmEvent}s sent to the request's reply address. */
  public static final String LLM_GENERATE = "llm.generate";
  /** {@code LlmCancel}, published: whichever node runs the turn stops it. */
  public static final String LLM_CANCEL = "llm.cancel";

  /** {@code SynthesizeRequest} → audio chunks to the reply address, then a {@code SynthesizeDone} reply. */
  public static final String TTS_SYNTHESIZE = "tts.synthesize";
  /** {@code TtsCancel}, published: drop every queued or running synthesis of a turn. */
  public static final String TTS_CANCEL = "tts.cancel";

  /**
   * Where an STT node takes the audio frames ({@code Buffer}) and {@code SttControl} messages of
   * every stream it serves, each message naming its stream in a header ({@code SttOpen.STREAM_HEADER}).
   * One address per node, registered when the node starts: opening a stream, on a failover too,
   * writes nothing to the cluster's registry and the gateway's first frame needs no lookup in it
   * (a lookup waits while the partition that holds the key is being recovered from a dead member).
   */
  public static String sttStreams(String node) {
    return "stt.node." + node + ".streams";
  }

  /**
   * Where every client-visible event of a session is published once stored (dashboards, listeners):
   * the event's JSON text, seq and type in the headers ({@code LoggedEvent}).
   */
  public static String sessionEvents(String sessionId) {
    return "session." + sessionId + ".events";
  }

  /** Where a session's agent audio (PCM16LE {@code Buffer}s) is published for its listeners. */
  public static String sessionAudio(String sessionId) {
    return "session." + sessionId + ".audio";
  }

  /** Registered by the one connection that writes a session's events; takes {@code WriterRelease}. */
  public static String sessionWriter(String sessionId) {
    return "session." + sessionId + ".writer";
  }

  /** A gateway connection's inbox for {@code SttEvent}s. */
  public static String conversationStt(String connectionId) {
    return "gateway.conversation." + connectionId + ".stt";
  }

  /** A gateway connection's inbox for {@code LlmEvent}s. */
  public static String conversationLlm(String connectionId) {
    return "gateway.conversation." + connectionId + ".llm";
  }

  /** A gateway connection's inbox for synthesized audio chunks. */
  public static String conversationTts(String connectionId) {
    return "gateway.conversation." + connectionId + ".tts";
  }

  /** A tool: {@code ToolCall.arguments} in, a JSON object out (or a failure with an error code). */
  public static String tool(String name) {
    return "tool." + name;
  }

  /** Answered by every node running {@code role} with its {@code RoleStatus} (any one node replies). */
  public static String health(Role role) {
    return "mesh.health." + role.id();
  }

  /** Local to each node: this node's {@code RoleStatus} for {@code role}, for its own {@code /health}. */
  public static String nodeHealth(Role role) {
    return "mesh.node.health." + role.id();
  }

  /**
   * Local to each node, published by the launcher when a cluster member goes away: a {@code NodeLeft}.
   * Whatever this node had running on that member (STT streams, LLM turns, sentences) moves elsewhere.
   */
  public static final String NODE_LEFT = "mesh.node.left";

  /**
   * Cluster-wide: a {@code NodeLeft} published by a node that is stopping (SIGTERM), naming the roles
   * whose work should move away now (an STT node's streams), before it actually leaves. Each node's
   * launcher passes it on as {@link #NODE_LEFT}, so the same failover path moves the work.
   */
  public static final String NODE_DRAINING = "mesh.node.draining";

  /**
   * Local to each node, published by the launcher when a member's connection closed and its
   * address now refuses connections (a {@code NodeLeft}): the process is gone, tens of ms after its
   * death, while the membership view, and with it the event bus's routing, may list it for a few
   * hundred ms more. {@link #NODE_LEFT} follows. Work that can be redone safely on another node
   * moves now, asking more than one node if it must, since a request may still be routed to the dead one.
   */
  public static final String NODE_UNREACHABLE = "mesh.node.unreachable";

  /** Local to each node, served by the launcher: this node's name, roles and the cluster's members (JSON). */
  public static final String NODE_STATUS = "mesh.node.status";

  /**
   * Local to each gateway node: {@code SessionStatusRequest} → the session's status as
   * {@code GET /api/v1/sessions/{id}} shows it (JSON). The one address a dashboard may send to over
   * the event-bus bridge, which checks first that the caller may read the session.
   */
  public static final String SESSION_STATUS = "session.status";

  /**
   * Cluster-wide, published by the session role: one {@code SessionActivity} per session lifecycle
   * change ({@code session.started}, {@code session.ended}) and per finished turn
   * ({@code turn.completed}). Admins may follow it over the event-bus bridge.
   */
  public static final String DASHBOARD_SESSIONS = "dashboard.sessions";

  /**
   * Cluster-wide, published by every node once a second: its {@code NodeReport} (roles and load,
   * heap, event-loop delay, the members it sees). Admins may follow it over the event-bus bridge.
   */
  public static final String DASHBOARD_NODES = "dashboard.nodes";
}
