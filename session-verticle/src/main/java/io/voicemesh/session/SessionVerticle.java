package io.voicemesh.session;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetClientOptions;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.voicemesh.api.Addresses;
import io.voicemesh.api.Bus;
import io.voicemesh.api.Role;
import io.voicemesh.api.message.ContextRequest;
import io.voicemesh.api.message.EventAppend;
import io.voicemesh.api.message.EventReplay;
import io.voicemesh.api.message.SessionGet;
import io.voicemesh.api.message.SessionList;
import io.voicemesh.api.message.MessageAppend;
import io.voicemesh.api.message.MessageDelete;
import io.voicemesh.api.message.RoleStatus;
import io.voicemesh.api.message.SessionEnd;
import io.voicemesh.api.message.SessionOpen;
import io.voicemesh.api.message.SessionTouch;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static io.voicemesh.session.StoreFailures.guarded;

/**
 * The session role: owns PostgreSQL. Applies migrations, then serves the session addresses.
 *
 * <p>Config: {@code postgres.uri} (a {@code postgresql://} URI) or {@code postgres.host/port/database/
 * user/password}; {@code postgres.poolSize} (default 8); {@code node} (this node's name);
 * {@code session.idleEndMs}: a session nothing used for this long (no connection touched it, no
 * message) is ended with {@code session.ended{reason: idle}} (default 30 min; 0: never).
 *
 * <p>The database may come and go: the pool drops connections that closed and opens new ones on
 * demand, so the role reconnects by itself. Migrations that cannot run at start (the database is
 * not reachable yet) are tried again with growing pauses until they apply; until then the role
 * reports DOWN and serves nothing but its status. Once serving, a database that does not answer
 * makes it DEGRADED (its callers get {@code storage_unavailable}, never the driver's text).
 *
 * <p>With {@code kafka.bootstrapServers} set, the role also runs a {@link KafkaRelay}: every stored
 * event onto Kafka, one relay per shard across the cluster. Without it nothing about Kafka runs.
 */
public final class SessionVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(SessionVerticle.class);
  /** How long the status check's {@code SELECT 1} may take before the database counts as not answering. */
  static final long STATUS_QUERY_MS = 1_500;
  private static final long MIGRATION_RETRY_FIRST_MS = 500;
  private static final long MIGRATION_RETRY_MAX_MS = 10_000;
  /** Sessions ended per statement; a full batch is followed by the next at once. */
  private static final int IDLE_BATCH = 500;
  private Pool pool;
  private SessionStore store;
  private SessionActivityFeed activity;
  private boolean sweeping;
  private long idleEndMs;
  private String node;
  private volatile boolean serving;
  private volatile boolean stopped;
  private final List<MessageConsumer<Object>> consumers = new ArrayList<>();
  private KafkaRelay.Settings kafka;
  private KafkaRelay relay;

  @Override
  public Future<?> start() {
    JsonObject pg = config().getJsonObject("postgres", new JsonObject());
    PgConnectOptions connect = pg.containsKey("uri")
        ? PgConnectOptions.fromUri(pg.getString("uri"))
        : new PgConnectOptions()
            .setHost(pg.getString("host", "127.0.0.1"))
            .setPort(pg.getInteger("port", 5432))
            .setDatabase(pg.getString("database", "postgres"))
            .setUser(pg.getString("user", "postgres"))
            .setPassword(pg.getString("password", "postgres"));
    int poolSize = pg.getInteger("poolSize", 8);
    pool = PgBuilder.pool()
        // A bounded queue of requests waiting for a connection: an outage fails them instead of piling them up.
        .with(new PoolOptions().setMaxSize(poolSize).setMaxWaitQueueSize(poolSize * 128))
        // Keep-alive: a database host that vanished without closing its connections is noticed.
        .with(new NetClientOptions().setTcpKeepAlive(true))
        .connectingTo(connect)
        .using(vertx)
        .build();
    node = config().getString("node", "local");
    idleEndMs = config().getJsonObject("session", new JsonObject()).getLong("idleEndMs", 1_800_000L);
    if (idleEndMs < 0 || (idleEndMs > 0 && idleEndMs < 1_000)) {
      return Future.failedFuture(new IllegalArgumentException(
          "session.idleEndMs must be 0 (never) or at least 1000; got " + idleEndMs));
    }
    try {
      kafka = KafkaRelay.Settings.from(config().getJsonObject("kafka", new JsonObject()));
    } catch (IllegalArgumentException e) {
      return Future.failedFuture(e);
    }
    store = new SessionStore(pool);
    EventBus bus = vertx.eventBus();
    activity = new SessionActivityFeed(bus, store::get);
    consumers.addAll(Bus.serveStatus(bus, Role.SESSION, this::status));
    Promise<Void> firstAttempt = Promise.promise();
    migrate(store, MIGRATION_RETRY_FIRST_MS, firstAttempt);
    return Future.all(consumers.stream().map(MessageConsumer::completion).toList()).compose(v -> firstAttempt.future());
  }

  /**
   * Applies the migrations, then serves the session addresses. A failure is logged and tried again
   * later; {@code firstAttempt} completes after the first try either way, so the node starts and
   * says in {@code /health} why its session role is not ready yet.
   */
  private void migrate(SessionStore store, long retryMs, Promise<Void> firstAttempt) {
    if (stopped) {
      return;
    }
    Migrations.apply(pool)
        .compose(applied -> serve(store))
        .onSuccess(v -> {
          if (retryMs > MIGRATION_RETRY_FIRST_MS) {
            LOG.info("session store: migrations applied, serving");
          }
          firstAttempt.tryComplete();
        })
        .onFailure(e -> {
          LOG.warn("session store: migrations not applied ({}); trying again in {} ms", e.toString(), retryMs);
          firstAttempt.tryComplete();
          vertx.setTimer(retryMs, t -> migrate(store, Math.min(retryMs * 2, MIGRATION_RETRY_MAX_MS), firstAttempt));
        });
  }

  private Future<Void> serve(SessionStore store) {
    EventBus bus = vertx.eventBus();
    List<MessageConsumer<Object>> served = List.of(
        Bus.serve(bus, Addresses.SESSION_OPEN, SessionOpen.class, guarded(Addresses.SESSION_OPEN,
            request -> store.open(request).map(activity::opened))),
        Bus.serve(bus, Addresses.SESSION_MESSAGE_ADD, MessageAppend.class,
            guarded(Addresses.SESSION_MESSAGE_ADD, store::append)),
        Bus.serve(bus, Addresses.SESSION_MESSAGE_DELETE, MessageDelete.class,
            guarded(Addresses.SESSION_MESSAGE_DELETE, store::deleteMessage)),
        Bus.serve(bus, Addresses.SESSION_CONTEXT, ContextRequest.class, guarded(Addresses.SESSION_CONTEXT, store::context)),
        Bus.serve(bus, Addresses.SESSION_END, SessionEnd.class, guarded(Addresses.SESSION_END,
            request -> store.end(request).map(ended -> {
              // The session's connections (speaker and listeners) learn it here and close.
              if (ended.event() != null) {
                bus.publish(Addresses.sessionEvents(ended.info().sessionId()), ended.event().json(),
                    ended.event().toDeliveryOptions());
                activity.ended(ended.info(), ended.event());
              }
              return ended.info();
            }))),
        Bus.serve(bus, Addresses.SESSION_GET, SessionGet.class, guarded(Addresses.SESSION_GET, store::get)),
        Bus.serve(bus, Addresses.SESSION_LIST, SessionList.class, guarded(Addresses.SESSION_LIST, store::list)),
        Bus.serve(bus, Addresses.SESSION_EVENTS_APPEND, EventAppend.class,
            guarded(Addresses.SESSION_EVENTS_APPEND,
                request -> store.appendEvents(request).map(reply -> activity.appended(request, reply)))),
        Bus.serve(bus, Addresses.SESSION_EVENTS_REPLAY, EventReplay.class,
            guarded(Addresses.SESSION_EVENTS_REPLAY, store::replay)),
        Bus.serve(bus, Addresses.SESSION_TOUCH, SessionTouch.class, guarded(Addresses.SESSION_TOUCH, store::touch)));
    consumers.addAll(served);
    return Future.all(served.stream().map(MessageConsumer::completion).toList())
        .compose(v -> startRelay())
        .andThen(v -> {
          serving = true;
          if (idleEndMs > 0) {
            // Every session node sweeps; endIdle is safe to run on several at once.
            vertx.setPeriodic(Math.max(100, Math.min(60_000, idleEndMs / 10)), t -> endIdle(idleEndMs));
          }
        })
        .mapEmpty();
  }

  /** The Kafka relay, when Kafka is configured; the database is there (the migrations just ran). */
  private Future<Void> startRelay() {
    if (!kafka.enabled() || stopped) {
      return Future.succeededFuture();
    }
    relay = new KafkaRelay(vertx, pool, kafka, node);
    return relay.start();
  }

  /**
   * UP when the database answers {@code SELECT 1} within {@value #STATUS_QUERY_MS} ms; DEGRADED
   * (ready, with the reason) when it does not: the role itself answers and the gateways carry their
   * conversations on; DOWN until the migrations have applied.
   */
  private Future<RoleStatus> status() {
    if (!serving) {
      return Future.succeededFuture(new RoleStatus(Role.SESSION.id(), node, false, 0, 0, Map.of(),
          "waiting for the database to apply migrations"));
    }
    Promise<RoleStatus> answer = Promise.promise();
    long timer = vertx.setTimer(STATUS_QUERY_MS, t -> answer.tryComplete(degraded(
        "the database does not answer within " + STATUS_QUERY_MS + " ms")));
    pool.query("SELECT 1").execute().onComplete(checked -> {
      vertx.cancelTimer(timer);
      answer.tryComplete(checked.succeeded() ? new RoleStatus(Role.SESSION.id(), node, true, 0, 0)
          : degraded("the database is unreachable"));
    });
    return relay == null ? answer.future() : answer.future().map(status -> status.withKafka(relay.status()));
  }

  private RoleStatus degraded(String reason) {
    return new RoleStatus(Role.SESSION.id(), node, true, 0, 0, Map.of(), reason);
  }

  /** Ends the idle sessions, batch after batch, and tells each one's connections (if any were left). */
  private void endIdle(long idleEndMs) {
    if (sweeping) {
      return;
    }
    sweeping = true;
    store.endIdle(idleEndMs, IDLE_BATCH)
        .onSuccess(ended -> {
          sweeping = false;
          ended.forEach(e -> {
            vertx.eventBus().publish(Addresses.sessionEvents(e.sessionId()), e.event().json(),
                e.event().toDeliveryOptions());
            activity.idleEnded(e.sessionId(), e.event());
          });
          if (!ended.isEmpty()) {
            LOG.info("ended {} sessions idle for {} ms", ended.size(), idleEndMs);
          }
          if (ended.size() == IDLE_BATCH) {
            endIdle(idleEndMs);
          }
        })
        .onFailure(e -> {
          sweeping = false;
          LOG.warn("ending idle sessions failed (tried again at the next sweep): {}", e.getMessage());
        });
  }

  @Override
  public Future<?> stop() {
    stopped = true;
    Future<Void> relayStopped = relay == null ? Future.succeededFuture() : relay.stop();
    return pool == null ? relayStopped : relayStopped.eventually(() -> pool.close());
  }
}
