package io.voicemesh.session;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;
import io.voicemesh.api.event.ConversationEvent;
import io.voicemesh.api.ErrorCode;
import io.voicemesh.api.MeshException;
import io.voicemesh.api.message.ChatMessage;
import io.voicemesh.api.message.ContextReply;
import io.voicemesh.api.message.ContextRequest;
import io.voicemesh.api.message.EventAppend;
import io.voicemesh.api.message.EventAppended;
import io.voicemesh.api.message.EventPage;
import io.voicemesh.api.message.EventReplay;
import io.voicemesh.api.message.LoggedEvent;
import io.voicemesh.api.message.MessageAppend;
import io.voicemesh.api.message.MessageDelete;
import io.voicemesh.api.message.SessionEnd;
import io.voicemesh.api.message.SessionGet;
import io.voicemesh.api.message.SessionInfo;
import io.voicemesh.api.message.SessionList;
import io.voicemesh.api.message.SessionOpen;
import io.voicemesh.api.message.SessionPage;
import io.voicemesh.api.message.SessionTouch;
import java.nio.charset.StandardCharsets;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/** Sessions, their messages and their event log in PostgreSQL; every method is one or two round trips. */
final class SessionStore {
  static final int MAX_CONTEXT_MESSAGES = 200;
  static final int MAX_TEXT_CHARS = 20_000;
  static final int MAX_METADATA_BYTES = 16 * 1024;
  static final int MAX_LIST = 100;
  static final int MAX_REPLAY = 1_000;
  static final int MAX_APPEND = 1_000;
  /** The session's columns plus its turn count and newest event seq, over a row source named {@code s}. */
  private static final String INFO = "SELECT s.id, s.user_id, s.agent, s.status, s.metadata, s.created_at, "
      + "s.last_activity, s.ended_at, "
      + "(SELECT count(*) FROM messages m WHERE m.session_id = s.id AND m.role = 'user') AS turns, "
      + "(SELECT coalesce(max(e.seq), 0) FROM session_events e WHERE e.session_id = s.id) AS last_seq ";

  /** What {@link #end} did: the session, and the {@code session.ended} event it logged (null if it had ended before). */
  record Ended(SessionInfo info, LoggedEvent event) {
  }

  /** A session {@link #endIdle} ended, and the {@code session.ended} event it logged. */
  record IdleEnded(String sessionId, LoggedEvent event) {
  }

  private final Pool pool;

  SessionStore(Pool pool) {
    this.pool = pool;
  }

  Future<SessionInfo> open(SessionOpen request) {
    requireText(request.userId(), "userId");
    if (request.sessionId() == null) {
      requireText(request.agent(), "agent");
      JsonObject metadata = metadata(request.metadata());
      return pool.preparedQuery("WITH s AS (INSERT INTO sessions (id, user_id, agent, status, metadata, writer_id) "
              + "VALUES ($1, $2, $3, 'active', $4::jsonb, $5) RETURNING *) " + INFO + "FROM s")
          .execute(Tuple.of(UUID.randomUUID(), request.userId(), request.agent(), metadata, request.writerId()))
          .map(rows -> toInfo(rows.iterator().next(), false));
    }
    UUID id = parseId(request.sessionId());
    // FOR UPDATE waits for appends in flight (they hold FOR SHARE), and the statements after it see
    // what they stored: the new writer's lastSeq is then really the last stored event.
    return pool.withTransaction(conn -> conn.preparedQuery("SELECT user_id, status FROM sessions WHERE id = $1 FOR UPDATE")
        .execute(Tuple.of(id))
        .compose(rows -> {
          Row row = single(rows, request.sessionId());
          if (!row.getString("user_id").equals(request.userId())) {
            throw new MeshException(ErrorCode.FORBIDDEN, "session " + id + " belongs to another user");
          }
          if ("ended".equals(row.getString("status"))) {
            throw new MeshException(ErrorCode.SESSION_ENDED, "session " + id + " has ended");
          }
          return conn.preparedQuery("UPDATE sessions SET last_activity = now(), writer_id = coalesce($2, writer_id) "
              + "WHERE id = $1").execute(Tuple.of(id, request.writerId()));
        })
        .compose(updated -> conn.preparedQuery(INFO + "FROM sessions s WHERE s.id = $1").execute(Tuple.of(id)))
        .map(rows -> toInfo(rows.iterator().next(), true)));
  }

  Future<SessionInfo> get(SessionGet request) {
    UUID id = parseId(request.sessionId());
    return pool.preparedQuery(INFO + "FROM sessions s WHERE s.id = $1").execute(Tuple.of(id))
        .map(rows -> toInfo(single(rows, request.sessionId()), false));
  }

  Future<SessionPage> list(SessionList request) {
    int limit = Math.max(1, Math.min(request.limit(), MAX_LIST));
    return pool.preparedQuery(INFO + "FROM sessions s WHERE ($1::text IS NULL OR s.user_id = $1) AND (NOT $2 OR s.status = 'active') "
            + "ORDER BY s.created_at DESC, s.id LIMIT $3")
        .execute(Tuple.of(request.userId(), request.activeOnly(), limit))
        .map(rows -> {
          List<SessionInfo> sessions = new ArrayList<>();
          rows.forEach(row -> sessions.add(toInfo(row, false)));
          return new SessionPage(sessions);
        });
  }

  Future<Void> append(MessageAppend message) {
    UUID id = parseId(message.sessionId());
    if (message.role() == null || message.text() == null || message.text().length() > MAX_TEXT_CHARS) {
      return Future.failedFuture(new MeshException(ErrorCode.BAD_REQUEST,
          "a message needs a role and at most " + MAX_TEXT_CHARS + " characters of text"));
    }
    // A turn's message is stored once: a retried append whose first attempt landed after all changes nothing.
    return pool.preparedQuery("WITH touched AS (UPDATE sessions SET last_activity = now() WHERE id = $1 RETURNING id), "
            + "ins AS (INSERT INTO messages (session_id, turn_id, role, text) SELECT id, $2, $3, $4 FROM touched "
            + "ON CONFLICT (session_id, turn_id, role) DO NOTHING RETURNING 1) "
            + "SELECT (SELECT count(*) FROM touched) AS found, (SELECT count(*) FROM ins) AS stored")
        .execute(Tuple.of(id, String.valueOf(message.turnId()), message.role().wire(), message.text()))
        .map(rows -> {
          if (rows.iterator().next().getLong("found") == 0) {
            throw new MeshException(ErrorCode.SESSION_NOT_FOUND, "no session " + message.sessionId());
          }
          return null;
        });
  }

  /** The message leaves the context; deleting one that is not there changes nothing. */
  Future<Void> deleteMessage(MessageDelete message) {
    if (message.role() == null || message.turnId() == null) {
      return Future.failedFuture(new MeshException(ErrorCode.BAD_REQUEST, "a message to delete needs its turn and role"));
    }
    return pool.preparedQuery("DELETE FROM messages WHERE session_id = $1 AND turn_id = $2 AND role = $3")
        .execute(Tuple.of(parseId(message.sessionId()), message.turnId(), message.role().wire()))
        .mapEmpty();
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

  /**
   * Stores a writer's events in one statement, only while it still holds the writer role. Events
   * already stored under the same seq are left as they are: a retried batch (the gateway retries
   * until the database answers, and an earlier attempt may land late) is stored once.
   */
  Future<EventAppended> appendEvents(EventAppend request) {
    UUID id = parseId(request.sessionId());
    List<LoggedEvent> events = request.events() == null ? List.of() : request.events();
    if (request.writerId() == null || events.isEmpty() || events.size() > MAX_APPEND) {
      return Future.failedFuture(new MeshException(ErrorCode.BAD_REQUEST,
          "an event append needs a writer and 1 to " + MAX_APPEND + " events"));
    }
    Long[] seqs = events.stream().map(LoggedEvent::seq).toArray(Long[]::new);
    String[] types = events.stream().map(LoggedEvent::type).toArray(String[]::new);
    String[] texts = events.stream().map(LoggedEvent::json).toArray(String[]::new);
    // FOR SHARE: a takeover or end() in progress (FOR UPDATE) finishes first, and then fences this
    // writer out. A seq already stored (a retried batch that had committed) counts as stored.
    return pool.preparedQuery("WITH s AS (SELECT id FROM sessions WHERE id = $1 AND writer_id = $2 FOR SHARE), "
            + "ins AS (INSERT INTO session_events (session_id, seq, type, event) "
            + "SELECT s.id, e.seq, e.type, e.event::json FROM s, "
            + "unnest($3::bigint[], $4::text[], $5::text[]) AS e(seq, type, event) ON CONFLICT DO NOTHING RETURNING 1) "
            + "SELECT (SELECT count(*) FROM s) AS holds, (SELECT count(*) FROM ins) AS stored")
        .execute(Tuple.of(id, request.writerId(), seqs, types, texts))
        .map(rows -> {
          Row row = rows.iterator().next();
          return new EventAppended(row.getLong("stored").intValue(), row.getLong("holds") > 0);
        });
  }

  Future<EventPage> replay(EventReplay request) {
    UUID id = parseId(request.sessionId());
    int limit = Math.max(1, Math.min(request.limit(), MAX_REPLAY));
    return pool.preparedQuery("SELECT seq, type, event::text AS event FROM session_events "
            + "WHERE session_id = $1 AND seq > $2 ORDER BY seq LIMIT $3")
        .execute(Tuple.of(id, request.afterSeq(), limit + 1))
        .map(rows -> {
          List<LoggedEvent> events = new ArrayList<>();
          rows.forEach(r -> events.add(new LoggedEvent(r.getLong("seq"), r.getString("type"), r.getString("event"))));
          boolean more = events.size() > limit;
          return new EventPage(more ? events.subList(0, limit) : events, more);
        });
  }

  /**
   * Ends a session: marks it ended, takes the writer role from whoever held it, and appends
   * {@code session.ended} after the last event, all in one transaction. Ending twice changes nothing.
   */
  Future<Ended> end(SessionEnd request) {
    UUID id = parseId(request.sessionId());
    return pool.withTransaction(conn -> conn.preparedQuery(
                "SELECT status FROM sessions WHERE id = $1 FOR UPDATE").execute(Tuple.of(id))
            .compose(rows -> {
              boolean wasActive = "active".equals(single(rows, request.sessionId()).getString("status"));
              if (!wasActive) {
                return Future.<LoggedEvent>succeededFuture(null);
              }
              return conn.preparedQuery("UPDATE sessions SET status = 'ended', writer_id = NULL, ended_at = now(), "
                      + "last_activity = now() WHERE id = $1 RETURNING ended_at, "
                      + "(SELECT coalesce(max(seq), 0) + 1 FROM session_events WHERE session_id = $1) AS seq")
                  .execute(Tuple.of(id))
                  .compose(updated -> {
                    Row row = updated.iterator().next();
                    long seq = row.getLong("seq");
                    String json = new JsonObject().put("type", ConversationEvent.SESSION_ENDED).put("seq", seq)
                        .put("sessionId", id.toString()).put("ts", millis(row.getOffsetDateTime("ended_at")))
                        .put("reason", "ended").encode();
                    // text, then json: a String bound as json is stored as a JSON string, not as the event.
                    return conn.preparedQuery("INSERT INTO session_events (session_id, seq, type, event) "
                            + "VALUES ($1, $2, $3, $4::text::json)").execute(Tuple.of(id, seq, ConversationEvent.SESSION_ENDED, json))
                        .map(v -> new LoggedEvent(seq, ConversationEvent.SESSION_ENDED, json));
                  });
            })
            .compose(event -> conn.preparedQuery(INFO + "FROM sessions s WHERE s.id = $1").execute(Tuple.of(id))
                .map(rows -> new Ended(toInfo(rows.iterator().next(), false), event))));
  }

  /** Marks sessions as in use now (a gateway has connections to them), so they do not end as idle. */
  Future<Void> touch(SessionTouch request) {
    List<UUID> ids = new ArrayList<>();
    for (String id : request.sessionIds() == null ? List.<String>of() : request.sessionIds()) {
      try {
        ids.add(UUID.fromString(id));
      } catch (IllegalArgumentException | NullPointerException e) {
        // not a session: nothing to touch
      }
    }
    if (ids.isEmpty()) {
      return Future.succeededFuture();
    }
    return pool.preparedQuery("UPDATE sessions SET last_activity = now() WHERE id = ANY($1::uuid[]) AND status = 'active'")
        .execute(Tuple.of(ids.toArray(UUID[]::new))).mapEmpty();
  }

  /**
   * Ends up to {@code limit} sessions idle for {@code idleMs} (nothing touched them: no connection,
   * no message) and logs {@code session.ended} with reason {@code idle} after each one's last event.
   *
   * <p>Safe with several session nodes sweeping at once: one UPDATE … RETURNING claims the sessions
   * (SKIP LOCKED: rows another sweep, a DELETE or an append holds are left for the next sweep; the
   * {@code status = 'active'} condition is checked again on the locked row, so nothing ends twice),
   * and clears the writer, fencing out any writer left over. The events are inserted by a second
   * statement of the same transaction, whose fresh snapshot sees every event stored before the rows
   * were locked; no append can store one after.
   */
  Future<List<IdleEnded>> endIdle(long idleMs, int limit) {
    return pool.withTransaction(conn -> conn.preparedQuery("WITH idle AS (SELECT id FROM sessions "
                + "WHERE status = 'active' AND last_activity < now() - make_interval(secs => $1) "
                + "ORDER BY last_activity LIMIT $2 FOR UPDATE SKIP LOCKED) "
                + "UPDATE sessions s SET status = 'ended', writer_id = NULL, ended_at = now(), last_activity = now() "
                + "FROM idle WHERE s.id = idle.id AND s.status = 'active' RETURNING s.id, s.ended_at")
            .execute(Tuple.of(idleMs / 1000.0, limit))
            .compose(ended -> {
              if (ended.rowCount() == 0) {
                return Future.succeededFuture(List.<IdleEnded>of());
              }
              Map<UUID, OffsetDateTime> endedAt = new LinkedHashMap<>();
              ended.forEach(row -> endedAt.put(row.getUUID("id"), row.getOffsetDateTime("ended_at")));
              UUID[] ids = endedAt.keySet().toArray(UUID[]::new);
              return conn.preparedQuery("SELECT s.id, (SELECT coalesce(max(e.seq), 0) FROM session_events e "
                      + "WHERE e.session_id = s.id) AS last_seq FROM unnest($1::uuid[]) AS s(id)")
                  .execute(Tuple.of(ids))
                  .compose(lastSeqs -> {
                    List<LoggedEvent> events = new ArrayList<>();
                    List<UUID> sessionOf = new ArrayList<>();
                    lastSeqs.forEach(row -> {
                      UUID id = row.getUUID("id");
                      sessionOf.add(id);
                      long seq = row.getLong("last_seq") + 1;
                      events.add(new LoggedEvent(seq, ConversationEvent.SESSION_ENDED, new JsonObject().put("type", ConversationEvent.SESSION_ENDED)
                          .put("seq", seq).put("sessionId", id.toString()).put("ts", millis(endedAt.get(id)))
                          .put("reason", "idle").encode()));
                    });
                    return conn.preparedQuery("INSERT INTO session_events (session_id, seq, type, event) "
                            + "SELECT id, seq, 'session.ended', event::json FROM unnest($1::uuid[], $2::bigint[], $3::text[]) "
                            + "AS e(id, seq, event)")
                        .execute(Tuple.of(sessionOf.toArray(UUID[]::new), events.stream().map(LoggedEvent::seq).toArray(Long[]::new),
                            events.stream().map(LoggedEvent::json).toArray(String[]::new)))
                        .map(inserted -> {
                          List<IdleEnded> result = new ArrayList<>();
                          for (int i = 0; i < events.size(); i++) {
                            result.add(new IdleEnded(sessionOf.get(i).toString(), events.get(i)));
                          }
                          return result;
                        });
                  });
            }));
  }

  private static JsonObject metadata(JsonObject metadata) {
    JsonObject checked = metadata == null ? new JsonObject() : metadata;
    String encoded = checked.encode();
    if (encoded.getBytes(StandardCharsets.UTF_8).length > MAX_METADATA_BYTES) {
      throw new MeshException(ErrorCode.BAD_REQUEST, "metadata is limited to " + MAX_METADATA_BYTES + " bytes of JSON");
    }
    if (encoded.contains("\\u0000")) {
      // PostgreSQL's jsonb cannot hold the NUL character.
      throw new MeshException(ErrorCode.BAD_REQUEST, "metadata strings may not contain the NUL character (\\u0000)");
    }
    return checked;
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
    Object metadata = row.getValue("metadata");
    return new SessionInfo(row.getUUID("id").toString(), row.getString("user_id"), row.getString("agent"),
        row.getString("status"), millis(row.getOffsetDateTime("created_at")),
        millis(row.getOffsetDateTime("last_activity")), millis(row.getOffsetDateTime("ended_at")), resumed,
        metadata instanceof JsonObject object ? object : new JsonObject(), row.getLong("turns").intValue(),
        row.getLong("last_seq"));
  }

  private static long millis(OffsetDateTime time) {
    return time == null ? 0 : time.toInstant().toEpochMilli();
  }
}
