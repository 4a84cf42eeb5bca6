package io.voicemesh.llm;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.voicemesh.api.engine.LlmEngine;
import io.voicemesh.api.engine.LlmEngineProvider;

/**
 * {@code openai}. Config: {@code baseUrl} (required, e.g. {@code https://api.openai.com/v1}),
 * {@code model} (required), {@code apiKey}, {@code instructions} (the system prompt),
 * {@code connectTimeoutMs} (5000), {@code idleTimeoutMs} (20000: longest silence inside a stream),
 * {@code extraBody} (merged into each request, e.g. {@code {"temperature": 0.3}}), {@code caCertPath}
 * (a PEM CA certificate to trust instead of the JDK's, for a self-hosted https endpoint).
 */
public final class OpenAiEngineProvider implements LlmEngineProvider {
  @Override
  public String name() {
    return "openai";
  }

  @Override
  public LlmEngine create(Vertx vertx, JsonObject config) {
    for (String required : new String[] {"baseUrl", "model"}) {
      if (config.getString(required, "").isBlank()) {
        throw new IllegalArgumentException("the openai engine needs '" + required + "'");
      }
    }
    return new OpenAiEngine(vertx, new OpenAiEngine.Settings(
        config.getString("baseUrl"),
        config.getString("model"),
        config.getString("apiKey"),
        config.getString("instructions", "You are a helpful voice assistant. Answer briefly, in plain spoken sentences."),
        config.getLong("connectTimeoutMs", 5_000L),
        config.getLong("idleTimeoutMs", 20_000L),
        config.getJsonObject("extraBody", new JsonObject()),
        config.getString("caCertPath")));
  }
}
