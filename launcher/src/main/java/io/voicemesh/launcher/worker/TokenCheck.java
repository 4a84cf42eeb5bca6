package io.voicemesh.launcher.worker;

import io.vertx.core.Handler;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.grpc.common.GrpcStatus;
import io.voicemesh.api.grpc.WorkerChannel;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * In front of the worker's gRPC service: a call goes on only with {@code authorization: Bearer
 * <token>}; any other gets {@code UNAUTHENTICATED} before the service sees it, whatever its method
 * (HealthCheck too: it names the worker and its load, and a mesh with the wrong token should see
 * the worker as unhealthy rather than healthy and then be refused every session).
 */
final class TokenCheck implements Handler<HttpServerRequest> {
  private static final Logger LOG = LoggerFactory.getLogger(TokenCheck.class);
  /** Refusals are logged at most this often, with their count: a scan must not flood the log. */
  private static final long LOG_EVERY_MS = 10_000;

  private final byte[] expectedDigest;
  private final Handler<HttpServerRequest> service;
  private long refusedSinceLog;
  private long lastLogMs;

  TokenCheck(String token, Handler<HttpServerRequest> service) {
    this.expectedDigest = sha256(token);
    this.service = service;
  }

  @Override
  public void handle(HttpServerRequest request) {
    if (accepts(request.getHeader(WorkerChannel.AUTHORIZATION))) {
      service.handle(request);
      return;
    }
    logRefusal(request);
    // A trailers-only gRPC response: the status in the headers, no message, end of stream.
    request.response().putHeader("content-type", "application/grpc")
        .putHeader("grpc-status", Integer.toString(GrpcStatus.UNAUTHENTICATED.code))
        .putHeader("grpc-message", "this worker needs authorization: Bearer <token>")
        .end();
  }

  /**
   * Compares digests of the same length with {@link MessageDigest#isEqual}, whose time does not
   * depend on where they differ; hashing first also keeps the token's length out of the timing.
   */
  boolean accepts(String authorization) {
    if (authorization == null || !authorization.regionMatches(true, 0, WorkerChannel.BEARER, 0, WorkerChannel.BEARER.length())) {
      return false;
    }
    return MessageDigest.isEqual(expectedDigest, sha256(authorization.substring(WorkerChannel.BEARER.length()).trim()));
  }

  private void logRefusal(HttpServerRequest request) {
    refusedSinceLog++;
    long now = System.currentTimeMillis();
    if (now - lastLogMs >= LOG_EVERY_MS) {
      LOG.warn("refused {} call(s) without the right token, the last from {}", refusedSinceLog, request.remoteAddress());
      refusedSinceLog = 0;
      lastLogMs = now;
    }
  }

  private static byte[] sha256(String text) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
  }
}
