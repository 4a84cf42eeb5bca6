package io.voicemesh.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Context;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgBuilder;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import io.voicemesh.api.Addresses;
import io.voicemesh.api.Bus;
import io.voicemesh.api.ErrorCode;
import io.voicemesh.api.message.LoggedEvent;
import io.voicemesh.api.message.SessionInfo;
import io.voicemesh.api.message.SessionOpen;
import io.voicemesh.session.SessionVerticle;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A session's event log, writer side, without any socket: real event bus, the real session role
 * on a real PostgreSQL. (In the launcher's tests because only the launcher may know both modules.)
 */
@DisplayName("The session event log")
@Timeout(60)
class SessionEventLogTest {
  private static EmbeddedPostgres postgres;
  private static Vertx vertx;
  private static Pool database;
  private static String sessionRole;
  private static JsonObject sessionConfig;
  private static final List<Integer> appendSizes = new CopyOnWriteArrayList<>();
  private static final GatewaySettings SETTINGS = GatewaySettings.from(new JsonObject());

  @BeforeAll
  static void start() throws Exception {
    postgres = EmbeddedPostgres.builder().start();
    vertx = Vertx.vertx();
    String uri = "postgresql://postgres:postgres@127.0.0.1:" + postgres.getPort() + "/postgres";
    sessionConfig = new JsonObject().put("postgres", new JsonObject().put("uri", uri));
    sessionRole = vertx.deployVerticle(new SessionVerticle(), new DeploymentOptions().setConfig(sessionConfig))
        .await(30, TimeUnit.SECONDS);
    database = PgBuilder.pool().connectingTo(uri).using(vertx).build();
    // Watches (does not change) what goes to the store: how many events each append carries.
    vertx.eventBus().addOutboundInterceptor(delivery -> {
      if (Addresses.SESSION_EVENTS_APPEND.equals(delivery.message().address())
          && delivery.message().body() instanceof JsonObject append) {
        appendSizes.add(append.getJsonArray("events").size());
      }
      delivery.next();
    });
  }

  @AfterAll
  static void stop() throws Exception {
    if (database != null) {
      database.close().await(10, TimeUnit.SECONDS);
    }
    if (vertx != null) {
      vertx.close().await(10, TimeUnit.SECONDS);
    }
    if (postgres != null) {
      postgres.close();
    }
  }

  private record Writer(SessionEventLog log, String sessionId, List<ErrorCode> lost, Context context) {
    <T> T on(Callable<T> action) throws Exception {
      Promise<T> result = Promise.promise();
      context.runOnContext(v -> {
        try {
          result.complete(action.call());
        } catch (Exception e) {
          result.fail(e);
        }
      });
      return result.future().await(10, TimeUnit.SECONDS);
    }
  }

  /** A new session whose writer role the returned log holds. */
  private static Writer writer() throws Exception {
    String writerId = "writer-" + UUID.randomUUID();
    SessionInfo info = Bus.request(vertx.eventBus(), Addresses.SESSION_OPEN,
        new SessionOpen(null, "ada", "default", null, writerId), SessionInfo.class, 5_000).await(10, TimeUnit.SECONDS);
    List<ErrorCode> lost = new CopyOnWriteArrayList<>();
    Context context = vertx.getOrCreateContext();
    SessionEventLog log = new SessionEventLog(vertx, writerId, SETTINGS, lost::add);
    Writer writer = new Writer(log, info.sessionId(), lost, context);
    writer.on(() -> {
      log.open(info.sessionId(), info.lastSeq());
      return null;
    });
    return writer;
  }

  private static List<String> stored(String sessionId) throws Exception {
    List<String> events = new ArrayList<>();
    for (Row row : database.preparedQuery("SELECT event::text AS event FROM session_events WHERE session_id = $1 ORDER BY seq")
        .execute(Tuple.of(UUID.fromString(sessionId))).await(10, TimeUnit.SECONDS)) {
      events.add(row.getString("event"));
    }
    return events;
  }

  private static void poll(Callable<Boolean> condition, String what) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (!condition.call()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not within 20 s: " + what);
      }
      Thread.sleep(20);
    }
  }

  @Test
  @DisplayName("numbers events 1, 2, 3, stores those of one task as one append, and publishes each only once stored, in order")
  void numbersStoresPublishes() throws Exception {
    Writer writer = writer();
    List<LoggedEvent> published = new CopyOnWriteArrayList<>();
    List<Integer> storedWhenPublished = new CopyOnWriteArrayList<>();
    vertx.eventBus().<String>consumer(Addresses.sessionEvents(writer.sessionId()), message -> {
      LoggedEvent event = LoggedEvent.from(message);
      published.add(event);
      database.preparedQuery("SELECT count(*) AS n FROM session_events WHERE session_id = $1 AND seq = $2")
          .execute(Tuple.of(UUID.fromString(writer.sessionId()), event.seq()))
          .onSuccess(rows -> storedWhenPublished.add(rows.iterator().next().getLong("n").intValue()));
    }).completion().await(5, TimeUnit.SECONDS);
    appendSizes.clear();
    List<LoggedEvent> made = writer.on(() -> List.of(
        writer.log().append("speech_started", new JsonObject().put("audioMs", 120)),
        writer.log().append("transcript.partial", new JsonObject().put("text", "hel")),
        writer.log().append("transcript.final", new JsonObject().put("text", "hello"))));
    assertEquals(List.of(1L, 2L, 3L), made.stream().map(LoggedEvent::seq).toList());
    JsonObject first = new JsonObject(made.get(0).json());
    assertEquals("speech_started", first.getString("type"));
    assertEquals(writer.sessionId(), first.getString("sessionId"));
    assertEquals(120, first.getInteger("audioMs"));
    assertTrue(first.getLong("ts") > 0);

    poll(() -> storedWhenPublished.size() == 3, "three events published");
    assertEquals(made, published, "published in order, exactly as made");
    assertEquals(List.of(1, 1, 1), storedWhenPublished, "each was in the log when it was published");
    assertEquals(List.of(3), appendSizes, "one append for the three events of one task");
    assertEquals(made.stream().map(LoggedEvent::json).toList(), stored(writer.sessionId()));

    LoggedEvent fourth = writer.on(() -> writer.log().append("speech_stopped", new JsonObject()));
    assertEquals(4L, fourth.seq(), "the next task's event goes on from the last");
    poll(() -> published.size() == 4, "the fourth published");
    assertEquals(List.of(), writer.lost());
  }

  @Test
  @DisplayName("stopWriting completes once every event made is stored; later appends make nothing")
  void stopWritingDrains() throws Exception {
    Writer writer = writer();
    Future<Void> stopped = writer.on(() -> {
      writer.log().append("user_message", new JsonObject().put("turnId", 1).put("text", "hi"));
      writer.log().append("agent_started", new JsonObject().put("turnId", 1));
      return writer.log().stopWriting();
    });
    stopped.await(10, TimeUnit.SECONDS);
    assertEquals(2, stored(writer.sessionId()).size(), "both stored when stopWriting completed");
    assertNull(writer.on(() -> writer.log().append("agent_completed", new JsonObject())));
    assertEquals(2, stored(writer.sessionId()).size());
  }

  @Test
  @DisplayName("a writer whose role another connection took stops with taken_over, and its event is not stored")
  void takenOver() throws Exception {
    Writer writer = writer();
    writer.on(() -> writer.log().append("speech_started", new JsonObject()));
    poll(() -> stored(writer.sessionId()).size() == 1, "the first event stored");
    Bus.request(vertx.eventBus(), Addresses.SESSION_OPEN, new SessionOpen(writer.sessionId(), "ada", null, null, "another"),
        SessionInfo.class, 5_000).await(10, TimeUnit.SECONDS);
    writer.on(() -> writer.log().append("speech_stopped", new JsonObject()));
    poll(() -> !writer.lost().isEmpty(), "the writer learns it lost the role");
    assertEquals(List.of(ErrorCode.TAKEN_OVER), writer.lost());
    assertEquals(1, stored(writer.sessionId()).size());
    assertNull(writer.on(() -> writer.log().append("speech_started", new JsonObject())));
  }

  @Test
  @DisplayName("while the session role is away, events wait in order; when it is back they are stored, nothing lost")
  void storeAway() throws Exception {
    Writer writer = writer();
    vertx.undeploy(sessionRole).await(10, TimeUnit.SECONDS);
    AtomicInteger made = new AtomicInteger();
    try {
      for (int i = 0; i < 3; i++) {
        assertNotNull(writer.on(() -> writer.log().append("transcript.partial", new JsonObject().put("n", made.incrementAndGet()))));
      }
      poll(() -> writer.on(() -> writer.log().storageBehind()), "the log knows the store is away");
    } finally {
      sessionRole = vertx.deployVerticle(new SessionVerticle(), new DeploymentOptions().setConfig(sessionConfig))
          .await(30, TimeUnit.SECONDS);
    }
    writer.on(() -> writer.log().append("transcript.final", new JsonObject().put("n", made.incrementAndGet())));
    poll(() -> stored(writer.sessionId()).size() == 4, "every event stored once the role is back");
    List<Integer> order = stored(writer.sessionId()).stream().map(e -> new JsonObject(e).getInteger("n")).toList();
    assertEquals(List.of(1, 2, 3, 4), order);
    assertFalse(writer.on(() -> writer.log().storageBehind()));
    assertEquals(List.of(), writer.lost());
  }
}
