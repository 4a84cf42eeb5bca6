package io.voicemesh.llm;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.voicemesh.api.engine.LlmEngine;
import io.voicemesh.api.engine.LlmEngineProvider;

/** {@code builtin}. Config: {@code deltaDelayMs} (default 15), the pause between streamed words. */
public final class BuiltinAgentProvider implements LlmEngineProvider {
  @Override
  public String name() {
    return "builtin";
  }

  @Override
  public LlmEngine create(Vertx vertx, JsonObject config) {
    return new BuiltinAgent(vertx, config.getLong("deltaDelayMs", 15L));
  }
}
