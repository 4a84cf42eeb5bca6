package io.voicemesh.api.engine;

import io.voicemesh.api.message.GenerateRequest;

/**
 * A language model that streams its answer and may call tools. {@link #generate} is called on the
 * verticle's event loop and must not block; the listener is called on that same context.
 */
public interface LlmEngine extends AutoCloseable {

  Generation generate(GenerateRequest request, Toolbox tools, GenerationListener listener);

  @Override
  default void close() {
  }
}
