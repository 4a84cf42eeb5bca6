package io.voicemesh.gateway;

import io.voicemesh.api.ErrorCode;
import io.voicemesh.api.MeshException;
import io.voicemesh.api.message.SessionInfo;

/**
 * Who is calling, from a verified token: the user ({@code sub}), and the one session the token is
 * limited to ({@code sid}), or null for a user token that reaches all of the user's sessions.
 */
public record Caller(String user, String sessionScope, String token, long expiresAtSeconds) {

  @Override
  public String toString() {
    // Never the token itself: callers end up in logs.
    return "Caller[" + user + (sessionScope == null ? "" : ", session " + sessionScope) + "]";
  }

  /** Refuses (403) a session that is not the caller's, or outside the token's session scope. */
  void mayUse(SessionInfo session) {
    if (!session.userId().equals(user)) {
      throw new MeshException(ErrorCode.FORBIDDEN, "session " + session.sessionId() + " belongs to another user");
    }
    mayReach(session.sessionId());
  }

  /** Refuses (403) a session id outside the token's session scope. */
  void mayReach(String sessionId) {
    if (sessionScope != null && !sessionScope.equals(sessionId)) {
      throw new MeshException(ErrorCode.FORBIDDEN, "this token is limited to session " + sessionScope);
    }
  }

  /** Refuses (403) operations that span sessions (create, list) to a session-scoped token. */
  void mayUseAllSessions() {
    if (sessionScope != null) {
      throw new MeshException(ErrorCode.FORBIDDEN, "this token is limited to session " + sessionScope);
    }
  }
}
