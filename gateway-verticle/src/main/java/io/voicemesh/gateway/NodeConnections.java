package io.voicemesh.gateway;

import io.voicemesh.api.ErrorCode;
import io.voicemesh.api.MeshException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * The WebSocket connections this gateway node holds, per user and per session: it admits a new one
 * only within the user's quotas, and names the sessions that have a connection here (for
 * {@code session.touch}, which keeps them from ending as idle).
 *
 * <p>Both quotas count on this node only. {@code connectionsPerUser} bounds what a user holds of this
 * node (sockets, buffers, event-loop time). {@code sessionsPerUser} counts the sessions the user
 * speaks in here: a count kept with the connections themselves is exact and dies with them, so a
 * gateway that crashes leaks nothing. A cluster-wide count (a Hazelcast counter in Vert.x shared
 * data) would not be decremented for the connections of a node killed with {@code kill -9}, and
 * the user would stay locked out; making it heal needs leases renewed per connection, a cluster
 * round trip on every upgrade. Behind a load balancer a user can so hold {@code sessionsPerUser}
 * sessions on each gateway node; what such sessions cost elsewhere is bounded where it is spent
 * (each STT node gives one user at most {@code stt.userShare} of its streams).
 *
 * <p>Used on the gateway verticle's event loop only.
 */
final class NodeConnections {
  private final int connectionsPerUser;
  private final int sessionsPerUser;
  private final Map<String, UserConnections> users = new HashMap<>();
  /** For each session with a connection here (speaker or listener): how many. */
  private final Map<String, Integer> sessions = new HashMap<>();

  /** One user's connections here, and how many of them speak in each of its sessions (a new one by a placeholder). */
  private static final class UserConnections {
    int connections;
    final Map<String, Integer> spoken = new HashMap<>();
  }

  NodeConnections(int connectionsPerUser, int sessionsPerUser) {
    this.connectionsPerUser = connectionsPerUser;
    this.sessionsPerUser = sessionsPerUser;
  }

  /**
   * Reserves a place for a connection of {@code user} to {@code sessionId} (null: a new session), or
   * refuses it with {@code quota_exceeded}. A speaker that joins a session the user already speaks
   * in here (a reconnect taking over a half-dead connection) needs no new session place.
   */
  Slot admit(String user, String sessionId, boolean listener) {
    UserConnections held = users.get(user);
    int connections = held == null ? 0 : held.connections;
    if (connections >= connectionsPerUser) {
      throw new MeshException(ErrorCode.QUOTA_EXCEEDED, "this user has " + connections
          + " open connections on this gateway, its quota (gateway.limits.connectionsPerUser); close one first");
    }
    String spokenKey = listener ? null : sessionId != null ? sessionId : "new:" + UUID.randomUUID();
    int spoken = held == null ? 0 : held.spoken.size();
    if (spokenKey != null && spoken >= sessionsPerUser && !held.spoken.containsKey(spokenKey)) {
      throw new MeshException(ErrorCode.QUOTA_EXCEEDED, "this user speaks in " + spoken
          + " live sessions on this gateway, its quota (gateway.limits.sessionsPerUser); end or leave one first");
    }
    UserConnections entry = users.computeIfAbsent(user, u -> new UserConnections());
    entry.connections++;
    if (spokenKey != null) {
      entry.spoken.merge(spokenKey, 1, Integer::sum);
    }
    if (sessionId != null) {
      sessions.merge(sessionId, 1, Integer::sum);
    }
    return new Slot(user, spokenKey, sessionId);
  }

  /** The sessions with at least one connection on this node. */
  List<String> liveSessions() {
    return new ArrayList<>(sessions.keySet());
  }

  /** One admitted connection's place; {@link #release} gives it back (once). */
  final class Slot {
    private final String user;
    private String spokenKey;
    private String sessionId;
    private boolean released;

    private Slot(String user, String spokenKey, String sessionId) {
      this.user = user;
      this.spokenKey = spokenKey;
      this.sessionId = sessionId;
    }

    /** The connection's session is known now (a new one was created): it is counted under its id. */
    void session(String id) {
      if (released || id.equals(sessionId)) {
        return;
      }
      if (sessionId != null) {
        decrement(sessions, sessionId);
      }
      sessionId = id;
      sessions.merge(id, 1, Integer::sum);
      if (spokenKey != null) {
        Map<String, Integer> spoken = users.get(user).spoken;
        decrement(spoken, spokenKey);
        spokenKey = id;
        spoken.merge(id, 1, Integer::sum);
      }
    }

    void release() {
      if (released) {
        return;
      }
      released = true;
      if (sessionId != null) {
        decrement(sessions, sessionId);
      }
      UserConnections held = users.get(user);
      held.connections--;
      if (spokenKey != null) {
        decrement(held.spoken, spokenKey);
      }
      if (held.connections == 0) {
        users.remove(user);
      }
    }
  }

  private static void decrement(Map<String, Integer> counts, String key) {
    counts.computeIfPresent(key, (k, n) -> n <= 1 ? null : n - 1);
  }
}
