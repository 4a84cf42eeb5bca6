package io.voicemesh.launcher.worker;

import io.vertx.core.Future;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.server.GrpcServerResponse;
import io.vertx.grpc.server.StatusException;

/** Ending calls with a gRPC status. */
final class Status {
  private Status() {
  }

  static StatusException of(GrpcStatus status, String message) {
    return new StatusException(status, message);
  }

  /**
   * Ends {@code response} with {@code status} unless it has ended already (the caller went away);
   * completes once the status is written.
   */
  static Future<Void> end(GrpcServerResponse<?, ?> response, GrpcStatus status, String message) {
    try {
      response.status(status);
      if (message != null) {
        response.statusMessage(message);
      }
      return response.end().recover(gone -> Future.succeededFuture());
    } catch (IllegalStateException alreadyEnded) {
      return Future.succeededFuture(); // the stream is over either way
    }
  }

  /** Ends {@code response} with the status {@code failure} carries, INTERNAL for anything else. */
  static void fail(GrpcServerResponse<?, ?> response, Throwable failure) {
    if (failure instanceof StatusException status) {
      end(response, status.status(), status.message());
    } else if (failure instanceof IllegalArgumentException) {
      end(response, GrpcStatus.INVALID_ARGUMENT, failure.getMessage());
    } else {
      end(response, GrpcStatus.INTERNAL, String.valueOf(failure.getMessage()));
    }
  }
}
