package io.voicemesh.api.engine;

import io.vertx.core.Handler;
import io.voicemesh.api.message.GenerateRequest;

/**
 * A language model that streams its answer. {@link #generate} is called on the verticle's event
 * loop and must not block; deltas are handed to {@code onDelta} on that same context.
 */
public interface LlmEngine extends AutoCloseable {

  Generation generate(GenerateRequest request, Handler<String> onDelta);

  @Override
  default void close() {
  }
}
