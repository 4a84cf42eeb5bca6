package io.voicemesh.session;

import io.vertx.core.Future;
import io.vertx.sqlclient.DatabaseException;
import io.voicemesh.api.ErrorCode;
import io.voicemesh.api.MeshException;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the session role tells its callers when PostgreSQL fails: never the driver's text (it names
 * hosts, ports, tables and values). A database that cannot be reached, or that is shutting down or
 * restarting, is {@code storage_unavailable} (transient: the gateways hold their events meanwhile);
 * any other database error is {@code internal}. Both are logged here, on the node, in full.
 */
final class StoreFailures {
  private static final Logger LOG = LoggerFactory.getLogger(StoreFailures.class);
  static final String UNAVAILABLE_MESSAGE = "the session store cannot reach its database; try again shortly";
  private static final String INTERNAL_MESSAGE = "the session store failed; the details are in the node's log";

  private StoreFailures() {
  }

  /** The handler with its failures classified. */
  static <T, R> Function<T, Future<R>> guarded(String address, Function<T, Future<R>> handler) {
    return request -> {
      Future<R> result;
      try {
        result = handler.apply(request);
      } catch (RuntimeException e) {
        result = Future.failedFuture(e);
      }
      return result.recover(e -> Future.failedFuture(classify(address, e)));
    };
  }

  static MeshException classify(String address, Throwable failure) {
    if (failure instanceof MeshException mesh) {
      return mesh;
    }
    if (failure instanceof DatabaseException db && !unreachable(db.getSqlState())) {
      LOG.error("{}: database error {}: {}", address, db.getSqlState(), db.getMessage());
      return new MeshException(ErrorCode.INTERNAL, INTERNAL_MESSAGE);
    }
    // Connection refused or closed, a pool that cannot get a connection in time, a server in recovery.
    LOG.warn("{}: database unavailable: {}", address, failure.toString());
    return new MeshException(ErrorCode.STORAGE_UNAVAILABLE, UNAVAILABLE_MESSAGE);
  }

  /**
   * SQLSTATE classes that mean "not now" rather than "wrong": 08 connection exception, 57P
   * operator intervention (admin shutdown, crash shutdown, cannot connect now: a server restarting).
   */
  static boolean unreachable(String sqlState) {
    return sqlState != null && (sqlState.startsWith("08") || sqlState.startsWith("57P"));
  }
}
