package io.voicemesh.api.grpc;

import io.netty.handler.codec.http.QueryStringDecoder;
import io.vertx.grpc.client.GrpcClientResponse;
import io.vertx.grpc.common.GrpcStatus;

/** A speech worker answered a call with a status other than OK. */
public final class WorkerStatusException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final transient GrpcStatus status;

  public WorkerStatusException(GrpcStatus status, String message) {
    super(status.name() + (message == null || message.isEmpty() ? "" : ": " + message));
    this.status = status;
  }

  /**
   * Why a call ended: the status message, also when it came in trailers after messages (the
   * Vert.x client reports it only for trailers-only responses). Null without one.
   */
  public static String messageOf(GrpcClientResponse<?, ?> response) {
    if (response.statusMessage() != null) {
      return response.statusMessage();
    }
    String trailer = response.trailers() == null ? null : response.trailers().get("grpc-message");
    return trailer == null ? null : QueryStringDecoder.decodeComponent(trailer);
  }

  public GrpcStatus status() {
    return status;
  }

  /** The worker cannot serve now but another (or this one later) may: try elsewhere or fall back. */
  public boolean workerUnavailable() {
    return status == GrpcStatus.UNAVAILABLE || status == GrpcStatus.RESOURCE_EXHAUSTED
        || status == GrpcStatus.DEADLINE_EXCEEDED || status == GrpcStatus.ABORTED;
  }
}
