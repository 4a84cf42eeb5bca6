package io.voicemesh.api.engine;

/**
 * A remote engine cannot serve this call (its worker is gone, full, shutting down or not
 * answering): a fallback engine may take over. Other exceptions are the engine's own failures.
 */
public final class EngineUnavailableException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public EngineUnavailableException(String message) {
    super(message);
  }

  public EngineUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }
}
