package io.voicemesh.tts;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.voicemesh.api.engine.TtsEngine;
import io.voicemesh.api.engine.TtsEngineProvider;

/**
 * {@code freetts}: the embedded pure-Java synthesizer. Config: {@code voice} (default
 * {@code kevin16}), {@code voices} (how many voice instances, i.e. parallel syntheses; default 2),
 * {@code rate} (words per minute, default the voice's own).
 */
public final class FreeTtsEngineProvider implements TtsEngineProvider {
  @Override
  public String name() {
    return "freetts";
  }

  @Override
  public TtsEngine create(Vertx vertx, JsonObject config) {
    return new FreeTtsEngine(config.getString("voice", "kevin16"), config.getInteger("voices", 2),
        config.getDouble("rate", 0.0).floatValue());
  }
}
