package io.voicemesh.api.engine;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

/**
 * Creates an engine of one kind by name. Implementations are found with {@link java.util.ServiceLoader}
 * through one of the stage interfaces ({@link SttEngineProvider}, {@link LlmEngineProvider},
 * {@link TtsEngineProvider}), so choosing an engine is configuration, and adding one is a jar.
 */
public interface EngineProvider<E> {

  /** The name configuration uses, e.g. {@code vosk}. */
  String name();

  /** Builds the engine; may block (loads models), so it is called on a worker thread. */
  E create(Vertx vertx, JsonObject config) throws Exception;
}
