package io.voicemesh.llm;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.voicemesh.api.engine.LlmEngine;
import io.voicemesh.api.engine.LlmEngineProvider;
import java.time.Clock;
import java.time.ZoneId;

/** {@code builtin}. Config: {@code timeZone} (default the system's), {@code deltaDelayMs} (default 15). */
public final class BuiltinAgentProvider implements LlmEngineProvider {
  @Override
  public String name() {
    return "builtin";
  }

  @Override
  public LlmEngine create(Vertx vertx, JsonObject config) {
    ZoneId zone = config.containsKey("timeZone") ? ZoneId.of(config.getString("timeZone")) : ZoneId.systemDefault();
    return new BuiltinAgent(vertx, Clock.system(zone), config.getLong("deltaDelayMs", 15L));
  }
}
