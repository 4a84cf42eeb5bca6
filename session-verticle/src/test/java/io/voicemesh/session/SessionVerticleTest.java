package io.voicemesh.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.DeploymentOptions;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.voicemesh.api.Addresses;
import io.voicemesh.api.Bus;
import io.voicemesh.api.ErrorCode;
import io.voicemesh.api.MeshException;
import io.voicemesh.api.message.ChatMessage;
import io.voicemesh.api.message.ContextReply;
import io.voicemesh.api.message.ContextRequest;
import io.voicemesh.api.message.MessageAppend;
import io.voicemesh.api.message.EventAppend;
import io.voicemesh.api.message.EventAppended;
import io.voicemesh.api.message.EventPage;
import io.voicemesh.api.message.EventReplay;
import io.voicemesh.api.message.LoggedEvent;
import io.voicemesh.api.message.SessionEnd;
import io.voicemesh.api.message.SessionGet;
import io.voicemesh.api.message.SessionList;
import io.voicemesh.api.message.SessionPage;
import io.voicemesh.api.message.SessionInfo;
import io.voicemesh.api.message.SessionOpen;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The session role over the event bus, on a real PostgreSQL. */
@DisplayName("The session verticle")
class SessionVerticleTest {
  private static EmbeddedPostgres postgres;
  private static Vertx vertx;

  @BeforeAll
  static void start() throws Exception {
    postgres = EmbeddedPostgres.builder().start();
    vertx = Vertx.vertx();
    // Deployed twice: migrations run once per start and must be idempotent and race-free.
    JsonObject config = new JsonObject().put("postgres", new JsonObject()
        .put("uri", "postgresql://postgres:postgres@127.0.0.1:" + postgres.getPort() + "/postgres"));
    vertx.deployVerticle(SessionVerticle::new, new DeploymentOptions().setConfig(config).setInstances(2))
        .await(30, TimeUnit.SECONDS);
  }

  @AfterAll
  static void stop() throws Exception {
    if (vertx != null) {
      vertx.close().await(10, TimeUnit.SECONDS);
    }
    if (postgres != null) {
      postgres.close();
    }
  }

  private static <R> R call(String address, Object request, Class<R> reply) throws Exception {
    return Bus.request(vertx.eventBus(), address, request, reply, 5_000).await(10, TimeUnit.SECONDS);
  }

  private static ErrorCode failure(String address, Object request) {
    return assertThrows(MeshException.class, () -> call(address, request, JsonObject.class)).code();
  }

  @Test
  @DisplayName("creates a session, resumes it for its user, refuses other users, unknown ids and ended sessions")
  void lifecycle() throws Exception {
    SessionInfo created = call(Addresses.SESSION_OPEN, new SessionOpen(null, "ada", "default"), SessionInfo.class);
    assertEquals("active", created.status());
    assertFalse(created.resumed());
    assertTrue(created.createdAt() > 0);

    SessionInfo resumed = call(Addresses.SESSION_OPEN, new SessionOpen(created.sessionId(), "ada", null), SessionInfo.class);
    assertTrue(resumed.resumed());
    assertEquals("default", resumed.agent());

    assertEquals(ErrorCode.FORBIDDEN, failure(Addresses.SESSION_OPEN, new SessionOpen(created.sessionId(), "eve", null)));
    assertEquals(ErrorCode.SESSION_NOT_FOUND,
        failure(Addresses.SESSION_OPEN, new SessionOpen(UUID.randomUUID().toString(), "ada", null)));
    assertEquals(ErrorCode.SESSION_NOT_FOUND, failure(Addresses.SESSION_OPEN, new SessionOpen("nope", "ada", null)));
    assertEquals(ErrorCode.BAD_REQUEST, failure(Addresses.SESSION_OPEN, new SessionOpen(null, " ", "default")));

    SessionInfo ended = call(Addresses.SESSION_END, new SessionEnd(created.sessionId()), SessionInfo.class);
    assertEquals("ended", ended.status());
    assertTrue(ended.endedAt() >= ended.createdAt());
    assertEquals(ErrorCode.SESSION_ENDED, failure(Addresses.SESSION_OPEN, new SessionOpen(created.sessionId(), "ada", null)));
  }

  @Test
  @DisplayName("stores messages and returns the most recent ones oldest first, per session")
  void messages() throws Exception {
    String a = call(Addresses.SESSION_OPEN, new SessionOpen(null, "ada", "default"), SessionInfo.class).sessionId();
    String b = call(Addresses.SESSION_OPEN, new SessionOpen(null, "bob", "default"), SessionInfo.class).sessionId();
    assertNotEquals(a, b);
    for (int i = 0; i < 5; i++) {
      call(Addresses.SESSION_MESSAGE_ADD, new MessageAppend(a, "t" + i, ChatMessage.Role.USER, "question " + i), Void.class);
      call(Addresses.SESSION_MESSAGE_ADD, new MessageAppend(a, "t" + i, ChatMessage.Role.ASSISTANT, "answer " + i), Void.class);
    }
    call(Addresses.SESSION_MESSAGE_ADD, new MessageAppend(b, "x", ChatMessage.Role.USER, "bob's"), Void.class);

    ContextReply recent = call(Addresses.SESSION_CONTEXT, new ContextRequest(a, 3), ContextReply.class);
    assertEquals(List.of(ChatMessage.assistant("answer 3"), ChatMessage.user("question 4"), ChatMessage.assistant("answer 4")),
        recent.messages());
    assertEquals(List.of(ChatMessage.user("bob's")),
        call(Addresses.SESSION_CONTEXT, new ContextRequest(b, 20), ContextReply.class).messages());

    assertEquals(ErrorCode.SESSION_NOT_FOUND, failure(Addresses.SESSION_MESSAGE_ADD,
        new MessageAppend(UUID.randomUUID().toString(), "t", ChatMessage.Role.USER, "lost")));
    assertEquals(ErrorCode.BAD_REQUEST, failure(Addresses.SESSION_MESSAGE_ADD,
        new MessageAppend(a, "t", ChatMessage.Role.USER, "x".repeat(SessionStore.MAX_TEXT_CHARS + 1))));
  }

  @Test
  @DisplayName("keeps a gapless event log that only the current writer appends to, ended by session.ended")
  void eventLog() throws Exception {
    SessionInfo created = call(Addresses.SESSION_OPEN,
        new SessionOpen(null, "ada", "default", new JsonObject().put("plan", "pro"), "conn-1"), SessionInfo.class);
    assertEquals(0, created.lastSeq());
    assertEquals(new JsonObject().put("plan", "pro"), created.metadata());
    String id = created.sessionId();
    assertEquals(2, call(Addresses.SESSION_EVENTS_APPEND, new EventAppend(id, "conn-1",
        List.of(event(id, 1, "user_message"), event(id, 2, "agent_started"))), EventAppended.class).stored());

    // A second connection takes the writer role: the first one's appends are fenced out from then on.
    SessionInfo taken = call(Addresses.SESSION_OPEN, new SessionOpen(id, "ada", null, null, "conn-2"), SessionInfo.class);
    assertEquals(2, taken.lastSeq());
    EventAppended fenced = call(Addresses.SESSION_EVENTS_APPEND, new EventAppend(id, "conn-1",
        List.of(event(id, 3, "agent_response"))), EventAppended.class);
    assertEquals(0, fenced.stored());
    assertFalse(fenced.writer());
    assertEquals(1, call(Addresses.SESSION_EVENTS_APPEND, new EventAppend(id, "conn-2",
        List.of(event(id, 3, "agent_completed"))), EventAppended.class).stored());
    // A retried batch that had already been stored: nothing new, and still the writer.
    EventAppended retried = call(Addresses.SESSION_EVENTS_APPEND, new EventAppend(id, "conn-2",
        List.of(event(id, 3, "agent_completed"))), EventAppended.class);
    assertEquals(0, retried.stored());
    assertTrue(retried.writer());
    // Another user cannot take it.
    assertEquals(ErrorCode.FORBIDDEN, failure(Addresses.SESSION_OPEN, new SessionOpen(id, "eve", null, null, "conn-3")));
    assertEquals(1, call(Addresses.SESSION_EVENTS_APPEND, new EventAppend(id, "conn-2",
        List.of(event(id, 4, "audio.end"))), EventAppended.class).stored());

    call(Addresses.SESSION_END, new SessionEnd(id), SessionInfo.class);
    call(Addresses.SESSION_END, new SessionEnd(id), SessionInfo.class);
    assertEquals(0, call(Addresses.SESSION_EVENTS_APPEND, new EventAppend(id, "conn-2",
        List.of(event(id, 6, "late"))), EventAppended.class).stored());

    EventPage all = call(Addresses.SESSION_EVENTS_REPLAY, new EventReplay(id, 0, 100), EventPage.class);
    assertEquals(List.of("user_message", "agent_started", "agent_completed", "audio.end", "session.ended"),
        all.events().stream().map(LoggedEvent::type).toList());
    assertEquals(List.of(1L, 2L, 3L, 4L, 5L), all.events().stream().map(LoggedEvent::seq).toList());
    assertEquals(event(id, 2, "agent_started").json(), all.events().get(1).json(), "the exact JSON text comes back");
    EventPage tail = call(Addresses.SESSION_EVENTS_REPLAY, new EventReplay(id, 2, 2), EventPage.class);
    assertEquals(List.of(3L, 4L), tail.events().stream().map(LoggedEvent::seq).toList());
    assertTrue(tail.more());
    SessionInfo ended = call(Addresses.SESSION_GET, new SessionGet(id), SessionInfo.class);
    assertEquals("ended", ended.status());
    assertEquals(5, ended.lastSeq());
  }

  @Test
  @DisplayName("lists one user's sessions, active ones only on request, and refuses oversized metadata")
  void listing() throws Exception {
    String user = "lister-" + UUID.randomUUID();
    String first = call(Addresses.SESSION_OPEN, new SessionOpen(null, user, "default"), SessionInfo.class).sessionId();
    String second = call(Addresses.SESSION_OPEN, new SessionOpen(null, user, "default"), SessionInfo.class).sessionId();
    call(Addresses.SESSION_OPEN, new SessionOpen(null, "someone-else", "default"), SessionInfo.class);
    call(Addresses.SESSION_END, new SessionEnd(first), SessionInfo.class);
    assertEquals(List.of(second), call(Addresses.SESSION_LIST, new SessionList(user, true, 50), SessionPage.class)
        .sessions().stream().map(SessionInfo::sessionId).toList());
    assertEquals(java.util.Set.of(first, second), call(Addresses.SESSION_LIST, new SessionList(user, false, 50),
        SessionPage.class).sessions().stream().map(SessionInfo::sessionId).collect(java.util.stream.Collectors.toSet()));
    JsonObject huge = new JsonObject().put("blob", "x".repeat(SessionStore.MAX_METADATA_BYTES));
    assertEquals(ErrorCode.BAD_REQUEST, failure(Addresses.SESSION_OPEN, new SessionOpen(null, user, "default", huge, null)));
    assertEquals(ErrorCode.BAD_REQUEST, failure(Addresses.SESSION_OPEN,
        new SessionOpen(null, user, "default", new JsonObject().put("nul", "a\u0000b"), null)));
  }

  private static LoggedEvent event(String sessionId, long seq, String type) {
    return new LoggedEvent(seq, type, new JsonObject().put("type", type).put("seq", seq).put("sessionId", sessionId)
        .put("ts", 1_700_000_000_000L + seq).put("text", "caf\u00e9 \"quoted\"").encode());
  }

  @Test
  @DisplayName("answers its health address")
  void health() throws Exception {
    JsonObject status = call(Addresses.health(io.voicemesh.api.Role.SESSION), new JsonObject(), JsonObject.class);
    assertTrue(status.getBoolean("ready"));
  }

  @Test
  @DisplayName("a message appended again for the same turn and role (a retry whose first attempt landed) is stored once")
  void retriedMessageIsStoredOnce() throws Exception {
    SessionInfo session = call(Addresses.SESSION_OPEN, new SessionOpen(null, "retry", "default"), SessionInfo.class);
    String turn = UUID.randomUUID().toString();
    MessageAppend user = new MessageAppend(session.sessionId(), turn, ChatMessage.Role.USER, "hello");
    call(Addresses.SESSION_MESSAGE_ADD, user, Void.class);
    call(Addresses.SESSION_MESSAGE_ADD, user, Void.class);
    call(Addresses.SESSION_MESSAGE_ADD, new MessageAppend(session.sessionId(), turn, ChatMessage.Role.ASSISTANT, "hi"),
        Void.class);
    List<ChatMessage> context = call(Addresses.SESSION_CONTEXT, new ContextRequest(session.sessionId(), 10),
        ContextReply.class).messages();
    assertEquals(List.of(ChatMessage.Role.USER, ChatMessage.Role.ASSISTANT), context.stream().map(ChatMessage::role).toList());
    assertEquals(ErrorCode.SESSION_NOT_FOUND, failure(Addresses.SESSION_MESSAGE_ADD,
        new MessageAppend(UUID.randomUUID().toString(), turn, ChatMessage.Role.USER, "hello")));
  }

  @Test
  @DisplayName("started before its database is there, the role starts DOWN, serves once it comes, and answers storage_unavailable (no database text) while it is gone")
  void reconnectsToItsDatabase() throws Exception {
    int port;
    try (java.net.ServerSocket free = new java.net.ServerSocket(0)) {
      port = free.getLocalPort();
    }
    // A Vert.x of its own: its session addresses must not mix with the other database's.
    Vertx own = Vertx.vertx();
    EmbeddedPostgres late = null;
    try {
      own.deployVerticle(new SessionVerticle(), new DeploymentOptions().setConfig(new JsonObject().put("postgres",
          new JsonObject().put("uri", "postgresql://postgres:postgres@127.0.0.1:" + port + "/postgres")).put("node", "late")))
          .await(30, TimeUnit.SECONDS);
      io.voicemesh.api.message.RoleStatus waiting = status(own);
      assertFalse(waiting.ready(), "no database yet: " + waiting);

      late = EmbeddedPostgres.builder().setPort(port).start();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (!status(own).ready() && System.nanoTime() < deadline) {
        Thread.sleep(200);
      }
      assertEquals("UP", status(own).health(), "migrations applied once the database came");
      SessionInfo session = Bus.request(own.eventBus(), Addresses.SESSION_OPEN, new SessionOpen(null, "late", "default"),
          SessionInfo.class, 5_000).await(10, TimeUnit.SECONDS);

      late.close();
      late = null;
      MeshException gone = assertThrows(MeshException.class, () -> Bus.request(own.eventBus(), Addresses.SESSION_GET,
          new SessionGet(session.sessionId()), SessionInfo.class, 5_000).await(10, TimeUnit.SECONDS));
      assertEquals(ErrorCode.STORAGE_UNAVAILABLE, gone.code());
      assertFalse(gone.getMessage().contains(String.valueOf(port)) || gone.getMessage().contains("127.0.0.1")
          || gone.getMessage().toLowerCase().contains("postgres"), gone.getMessage());
      io.voicemesh.api.message.RoleStatus degraded = status(own);
      assertEquals("DEGRADED", degraded.health(), degraded.toString());
    } finally {
      own.close().await(10, TimeUnit.SECONDS);
      if (late != null) {
        late.close();
      }
    }
  }

  private static io.voicemesh.api.message.RoleStatus status(Vertx on) throws Exception {
    return io.voicemesh.api.Json.decode(on.eventBus().request(Addresses.nodeHealth(io.voicemesh.api.Role.SESSION), null)
        .await(10, TimeUnit.SECONDS).body(), io.voicemesh.api.message.RoleStatus.class);
  }
}
