package io.voicemesh.api;

import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** A failure that carries its {@link ErrorCode} across the event bus and to clients. */
public final class MeshException extends RuntimeException {
  private static final Logger LOG = LoggerFactory.getLogger(MeshException.class);
  /** What a client is told of a failure that is not ours to describe (a bug, a library's exception). */
  static final String INTERNAL_MESSAGE = "internal error; the details are in the node's log";
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
   * address is unavailable. Anything else is a bug or a library's exception (a database driver's,
   * say) whose text may hold addresses or internals: it is logged here, and travels on only as
   * {@code internal} with a generic message.
   */
  public static MeshException from(Throwable failure) {
    if (failure instanceof MeshException mesh) {
      return mesh;
    }
    if (failure instanceof ReplyException reply) {
      return switch (reply.failureType()) {
        case RECIPIENT_FAILURE -> new MeshException(ErrorCode.ofBusCode(reply.failureCode()), reply.getMessage());
        case TIMEOUT, NO_HANDLERS -> new MeshException(ErrorCode.ENGINE_UNAVAILABLE, reply.getMessage());
        default -> new MeshException(ErrorCode.INTERNAL, INTERNAL_MESSAGE);
      };
    }
    if (failure instanceof io.voicemesh.api.engine.EngineUnavailableException) {
      return new MeshException(ErrorCode.ENGINE_UNAVAILABLE, failure.getMessage());
    }
    LOG.error("unexpected failure, reported as internal", failure);
    return new MeshException(ErrorCode.INTERNAL, INTERNAL_MESSAGE);
  }

  /** Fails an event-bus request with the failure's code and message. */
  public static void fail(Message<?> request, Throwable failure) {
    MeshException mesh = from(failure);
    request.fail(mesh.code.busCode(), mesh.getMessage());
  }
}
