package io.voicemesh.api;

import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;

/** A failure that carries its {@link ErrorCode} across the event bus and to clients. */
public final class MeshException extends RuntimeException {
  private final ErrorCode code;

  public MeshException(ErrorCode code, String message) {
    super(message, null, false, false);
    this.code = code;
  }

  public ErrorCode code() {
    return code;
  }

  /**
   * Classifies any failure: a {@code MeshException} keeps its code, a recipient failure carries
   * its code in the failure code, and a timeout or a missing handler means the stage behind the
   * address is unavailable.
   */
  public static MeshException from(Throwable failure) {
    if (failure instanceof MeshException mesh) {
      return mesh;
    }
    if (failure instanceof ReplyException reply) {
      return switch (reply.failureType()) {
        case RECIPIENT_FAILURE -> new MeshException(ErrorCode.ofBusCode(reply.failureCode()), reply.getMessage());
        case TIMEOUT, NO_HANDLERS -> new MeshException(ErrorCode.ENGINE_UNAVAILABLE, reply.getMessage());
        default -> new MeshException(ErrorCode.INTERNAL, reply.getMessage());
      };
    }
    if (failure instanceof io.voicemesh.api.engine.EngineUnavailableException) {
      return new MeshException(ErrorCode.ENGINE_UNAVAILABLE, failure.getMessage());
    }
    return new MeshException(ErrorCode.INTERNAL, String.valueOf(failure.getMessage()));
  }

  /** Fails an event-bus request with the failure's code and message. */
  public static void fail(Message<?> request, Throwable failure) {
    MeshException mesh = from(failure);
    request.fail(mesh.code.busCode(), mesh.getMessage());
  }
}
