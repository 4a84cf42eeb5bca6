package io.voicemesh.gateway;

import io.voicemesh.api.ErrorCode;
import io.voicemesh.api.MeshException;
import io.voicemesh.api.message.SessionInfo;
import java.util.Set;

/**
 * Who is calling, from a verified token: the user ({@code sub}), and the one session the token is
 * limited to ({@code sid}), or null for a user token that reaches all of the user's sessions;
 * {@code roles} from the token's {@code roles} claim (empty when it has none).
 */
public record Caller(String user, String sessionScope, String token, long expiresAtSeconds, String tokenId,
    Set<String> roles) {

  /** The role that may watch every session and node over the event-bus bridge (dashboards). */
  public static final String ADMIN = "admin";

  /** A caller with its {@link #tokenId}, worked out once here, when the token is verified. */
  static Caller of(String user, String sessionScope, String token, long expiresAtSeconds, Set<String> roles) {
    return new Caller(user, sessionScope, token, expiresAtSeconds, idOf(token), Set.copyOf(roles));
  }

  /** Whether the token grants the admin role (and is not limited to one session). */
  public boolean admin() {
    return sessionScope == null && roles.contains(ADMIN);
  }

  @Override
  public String toString() {
    // Never the token itself: callers end up in logs.
    return "Caller[" + user + (sessionScope == null ? "" : ", session " + sessionScope)
        + (roles.isEmpty() ? "" : ", roles " + roles) + "]";
  }

  /**
   * Names the token without revealing it: the first 128 bits of its SHA-256, hex. STT nodes count
   * streams per token with it ({@code stt.tokenShare}); it can go in messages and logs.
   */
  private static String idOf(String token) {
    try {
      byte[] digest = java.security.MessageDigest.getInstance("SHA-256")
          .digest(token.getBytes(java.nio.charset.StandardCharsets.UTF_8));
      return java.util.HexFormat.of().formatHex(digest, 0, 16);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
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
