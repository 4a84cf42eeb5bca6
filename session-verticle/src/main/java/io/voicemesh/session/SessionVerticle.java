package io.voicemesh.session;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
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
import io.voicemesh.api.message.RoleStatus;
import io.voicemesh.api.message.SessionEnd;
import io.voicemesh.api.message.SessionOpen;
import io.voicemesh.api.message.SessionTouch;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The session role: owns PostgreSQL. Applies migrations, then serves the session addresses.
 *
 * <p>Config: {@code postgres.uri} (a {@code postgresql://} URI) or {@code postgres.host/port/database/
 * user/password}; {@code postgres.poolSize} (default 8); {@code node} (this node's name);
 * {@code session.idleEndMs}: a session nothing used for this long (no connection touched it, no
 * message) is ended with {@code session.ended{reason: idle}} (default 30 min; 0: never).
 */
public final class SessionVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(SessionVerticle.class);
  /** Sessions ended per statement; a full batch is followed by the next at once. */
  private static final int IDLE_BATCH = 500;
  private Pool pool;
  private SessionStore store;
  private boolean sweeping;

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
    pool = PgBuilder.pool()
        .with(new PoolOptions().setMaxSize(pg.getInteger("poolSize", 8)))
        .connectingTo(connect)
        .using(vertx)
        .build();
    store = new SessionStore(pool);
    EventBus bus = vertx.eventBus();
    String node = config().getString("node", "local");
    long idleEndMs = config().getJsonObject("session", new JsonObject()).getLong("idleEndMs", 1_800_000L);
    if (idleEndMs < 0 || (idleEndMs > 0 && idleEndMs < 1_000)) {
      return Future.failedFuture(new IllegalArgumentException(
          "session.idleEndMs must be 0 (never) or at least 1000; got " + idleEndMs));
    }
    return Migrations.apply(pool).compose(applied -> {
      List<MessageConsumer<Object>> consumers = new ArrayList<>(List.of(
          Bus.serve(bus, Addresses.SESSION_OPEN, SessionOpen.class, store::open),
          Bus.serve(bus, Addresses.SESSION_MESSAGE_ADD, MessageAppend.class, store::append),
          Bus.serve(bus, Addresses.SESSION_CONTEXT, ContextRequest.class, store::context),
          Bus.serve(bus, Addresses.SESSION_END, SessionEnd.class, request -> store.end(request).map(ended -> {
            // The session's connections (speaker and listeners) learn it here and close.
            if (ended.event() != null) {
              bus.publish(Addresses.sessionEvents(ended.info().sessionId()), ended.event().json(),
                  ended.event().toDeliveryOptions());
            }
            return ended.info();
          })),
          Bus.serve(bus, Addresses.SESSION_GET, SessionGet.class, store::get),
          Bus.serve(bus, Addresses.SESSION_LIST, SessionList.class, store::list),
          Bus.serve(bus, Addresses.SESSION_EVENTS_APPEND, EventAppend.class, store::appendEvents),
          Bus.serve(bus, Addresses.SESSION_EVENTS_REPLAY, EventReplay.class, store::replay),
          Bus.serve(bus, Addresses.SESSION_TOUCH, SessionTouch.class, store::touch)));
      consumers.addAll(Bus.serveStatus(bus, Role.SESSION, () -> pool.query("SELECT 1").execute()
          .map(rows -> new RoleStatus(Role.SESSION.id(), node, true, 0, 0))));
      if (idleEndMs > 0) {
        // Every session node sweeps; endIdle is safe to run on several at once.
        vertx.setPeriodic(Math.max(100, Math.min(60_000, idleEndMs / 10)), t -> endIdle(idleEndMs));
      }
      return Future.all(consumers.stream().map(MessageConsumer::completion).toList());
    });
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
          ended.forEach(e -> vertx.eventBus().publish(Addresses.sessionEvents(e.sessionId()), e.event().json(),
              e.event().toDeliveryOptions()));
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
    return pool == null ? Future.succeededFuture() : pool.close();
  }
}
