package io.voicemesh.api.grpc;

import io.vertx.grpc.common.GrpcStatus;

/** A speech worker answered a call with a status other than OK. */
public final class WorkerStatusException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final transient GrpcStatus status;

  public WorkerStatusException(GrpcStatus status, String message) {
    super(status + (message == null || message.isEmpty() ? "" : ": " + message));
    this.status = status;
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
