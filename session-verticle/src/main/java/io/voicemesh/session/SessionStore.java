package io.voicemesh.session;

import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;
import io.voicemesh.api.ErrorCode;
import io.voicemesh.api.MeshException;
import io.voicemesh.api.message.ChatMessage;
import io.voicemesh.api.message.ContextReply;
import io.voicemesh.api.message.ContextRequest;
import io.voicemesh.api.message.MessageAppend;
import io.voicemesh.api.message.SessionEnd;
import io.voicemesh.api.message.SessionInfo;
import io.voicemesh.api.message.SessionOpen;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.UUID;

/** Sessions and their messages in PostgreSQL; every method is one reactive round trip or two. */
final class SessionStore {
  static final int MAX_CONTEXT_MESSAGES = 200;
  static final int MAX_TEXT_CHARS = 20_000;
  private static final String COLUMNS = "id, user_id, agent, status, created_at, last_activity, ended_at";

  private final Pool pool;

  SessionStore(Pool pool) {
    this.pool = pool;
  }

  Future<SessionInfo> open(SessionOpen request) {
    requireText(request.userId(), "userId");
    if (request.sessionId() == null) {
      requireText(request.agent(), "agent");
      return pool.preparedQuery("INSERT INTO sessions (id, user_id, agent, status) VALUES ($1, $2, $3, 'active') "
              + "RETURNING " + COLUMNS)
          .execute(Tuple.of(UUID.randomUUID(), request.userId(), request.agent()))
          .map(rows -> toInfo(rows.iterator().next(), false));
    }
    UUID id = parseId(request.sessionId());
    return pool.preparedQuery("UPDATE sessions SET last_activity = now() WHERE id = $1 RETURNING " + COLUMNS)
        .execute(Tuple.of(id))
        .map(rows -> {
          SessionInfo info = toInfo(single(rows, request.sessionId()), true);
          if (!info.userId().equals(request.userId())) {
            throw new MeshException(ErrorCode.FORBIDDEN, "session " + id + " belongs to another user");
          }
          if ("ended".equals(info.status())) {
            throw new MeshException(ErrorCode.SESSION_ENDED, "session " + id + " has ended");
          }
          return info;
        });
  }

  Future<Void> append(MessageAppend message) {
    UUID id = parseId(message.sessionId());
    if (message.role() == null || message.text() == null || message.text().length() > MAX_TEXT_CHARS) {
      return Future.failedFuture(new MeshException(ErrorCode.BAD_REQUEST,
          "a message needs a role and at most " + MAX_TEXT_CHARS + " characters of text"));
    }
    return pool.preparedQuery("WITH touched AS (UPDATE sessions SET last_activity = now() WHERE id = $1 RETURNING id) "
            + "INSERT INTO messages (session_id, turn_id, role, text) SELECT id, $2, $3, $4 FROM touched RETURNING id")
        .execute(Tuple.of(id, String.valueOf(message.turnId()), message.role().wire(), message.text()))
        .map(rows -> {
          single(rows, message.sessionId());
          return null;
        });
  }

  Future<ContextReply> context(ContextRequest request) {
    UUID id = parseId(request.sessionId());
    int limit = Math.max(0, Math.min(request.limit(), MAX_CONTEXT_MESSAGES));
    return pool.preparedQuery("SELECT role, text FROM messages WHERE session_id = $1 ORDER BY id DESC LIMIT $2")
        .execute(Tuple.of(id, limit))
        .map(rows -> {
          List<ChatMessage> messages = new ArrayList<>();
          rows.forEach(r -> messages.add(new ChatMessage(ChatMessage.Role.ofWire(r.getString("role")),
              r.getString("text"))));
          Collections.reverse(messages);
          return new ContextReply(messages);
        });
  }

  Future<SessionInfo> end(SessionEnd request) {
    UUID id = parseId(request.sessionId());
    return pool.preparedQuery("UPDATE sessions SET status = 'ended', ended_at = coalesce(ended_at, now()) "
            + "WHERE id = $1 RETURNING " + COLUMNS)
        .execute(Tuple.of(id))
        .map(rows -> toInfo(single(rows, request.sessionId()), true));
  }

  private static Row single(RowSet<Row> rows, String sessionId) {
    if (rows.rowCount() == 0) {
      throw new MeshException(ErrorCode.SESSION_NOT_FOUND, "no session " + sessionId);
    }
    return rows.iterator().next();
  }

  private static UUID parseId(String sessionId) {
    try {
      return UUID.fromString(String.valueOf(sessionId));
    } catch (IllegalArgumentException e) {
      throw new MeshException(ErrorCode.SESSION_NOT_FOUND, "no session " + sessionId);
    }
  }

  private static void requireText(String value, String name) {
    if (value == null || value.isBlank() || value.length() > 200) {
      throw new MeshException(ErrorCode.BAD_REQUEST, name + " must be 1 to 200 characters");
    }
  }

  private static SessionInfo toInfo(Row row, boolean resumed) {
    return new SessionInfo(row.getUUID("id").toString(), row.getString("user_id"), row.getString("agent"),
        row.getString("status"), millis(row.getOffsetDateTime("created_at")),
        millis(row.getOffsetDateTime("last_activity")), millis(row.getOffsetDateTime("ended_at")), resumed);
  }

  private static long millis(OffsetDateTime time) {
    return time == null ? 0 : time.toInstant().toEpochMilli();
  }
}
