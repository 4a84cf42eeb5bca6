package io.voicemesh.llm;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.parsetools.RecordParser;
import io.voicemesh.api.ErrorCode;
import io.voicemesh.api.MeshException;
import io.voicemesh.api.engine.Generation;
import io.voicemesh.api.engine.LlmEngine;
import io.voicemesh.api.message.ChatMessage;
import io.voicemesh.api.message.GenerateRequest;
import java.nio.charset.StandardCharsets;

/**
 * {@code openai}: any OpenAI-compatible {@code POST /chat/completions} endpoint with
 * {@code stream: true} (OpenAI, vLLM, Ollama, llama.cpp server). Reads the server-sent events
 * line by line:
 * <pre>
 * data: {"choices":[{"delta":{"role":"assistant"}}]}
 * data: {"choices":[{"delta":{"content":"Hel"}}]}
 * …
 * data: [DONE]
 * </pre>
 * Every failure — refused connection, non-200 status, an error object, a stream that stops
 * before {@code [DONE]}, or silence longer than the idle timeout — fails the generation with
 * {@code engine_unavailable}.
 */
final class OpenAiEngine implements LlmEngine {
  private static final int MAX_ERROR_BODY_CHARS = 300;

  record Settings(String baseUrl, String model, String apiKey, String instructions, long connectTimeoutMs,
      long idleTimeoutMs, JsonObject extraBody) {
  }

  private final HttpClient client;
  private final Settings settings;

  OpenAiEngine(Vertx vertx, Settings settings) {
    this.settings = settings;
    this.client = vertx.createHttpClient(new HttpClientOptions()
        .setConnectTimeout((int) settings.connectTimeoutMs())
        .setKeepAlive(true));
  }

  @Override
  public Generation generate(GenerateRequest request, Handler<String> onDelta) {
    SseGeneration generation = new SseGeneration(onDelta);
    RequestOptions options = new RequestOptions()
        .setMethod(HttpMethod.POST)
        .setAbsoluteURI(settings.baseUrl().replaceAll("/+$", "") + "/chat/completions")
        .setConnectTimeout(settings.connectTimeoutMs())
        .setIdleTimeout(settings.idleTimeoutMs())
        .putHeader("Content-Type", "application/json")
        .putHeader("Accept", "text/event-stream");
    if (settings.apiKey() != null && !settings.apiKey().isEmpty()) {
      options.putHeader("Authorization", "Bearer " + settings.apiKey());
    }
    Buffer body = requestBody(request).toBuffer();
    client.request(options)
        .compose(httpRequest -> {
          generation.request = httpRequest;
          return httpRequest.send(body);
        })
        .onSuccess(generation::consume)
        .onFailure(e -> generation.fail("cannot reach " + options.getURI() + ": " + e.getMessage()));
    return generation;
  }

  JsonObject requestBody(GenerateRequest request) {
    JsonArray messages = new JsonArray();
    if (settings.instructions() != null && !settings.instructions().isBlank()) {
      messages.add(message(ChatMessage.system(settings.instructions())));
    }
    request.messages().forEach(m -> messages.add(message(m)));
    return settings.extraBody().copy()
        .put("model", settings.model())
        .put("stream", true)
        .put("messages", messages);
  }

  private static JsonObject message(ChatMessage m) {
    return new JsonObject().put("role", m.role().wire()).put("content", m.text());
  }

  @Override
  public void close() {
    client.close();
  }

  /** One streamed completion. */
  private final class SseGeneration implements Generation {
    private final Promise<String> result = Promise.promise();
    private final StringBuilder text = new StringBuilder();
    private final Handler<String> onDelta;
    private HttpClientRequest request;

    SseGeneration(Handler<String> onDelta) {
      this.onDelta = onDelta;
    }

    void consume(HttpClientResponse response) {
      if (response.statusCode() != 200) {
        response.body().onComplete(body -> fail("endpoint answered HTTP " + response.statusCode()
            + (body.succeeded() ? ": " + truncate(body.result().toString()) : "")));
        return;
      }
      response.handler(RecordParser.newDelimited("\n", this::line));
      response.exceptionHandler(e -> fail("stream broke: " + e.getMessage()));
      response.endHandler(v -> fail("stream ended before [DONE]"));
    }

    private void line(Buffer raw) {
      String line = raw.toString(StandardCharsets.UTF_8).strip();
      if (!line.startsWith("data:") || result.future().isComplete()) {
        return;
      }
      String data = line.substring(5).strip();
      if (data.equals("[DONE]")) {
        result.tryComplete(text.toString());
        return;
      }
      JsonObject chunk;
      try {
        chunk = new JsonObject(data);
      } catch (DecodeException e) {
        fail("malformed stream chunk: " + truncate(data));
        return;
      }
      if (chunk.containsKey("error")) {
        fail("endpoint reported an error: " + truncate(String.valueOf(chunk.getValue("error"))));
        return;
      }
      JsonArray choices = chunk.getJsonArray("choices", new JsonArray());
      JsonObject delta = choices.isEmpty() ? null : choices.getJsonObject(0).getJsonObject("delta");
      String content = delta == null ? null : delta.getString("content");
      if (content != null && !content.isEmpty()) {
        text.append(content);
        onDelta.handle(content);
      }
    }

    void fail(String why) {
      if (result.tryFail(new MeshException(ErrorCode.ENGINE_UNAVAILABLE, "openai engine: " + why)) && request != null) {
        request.reset();
      }
    }

    @Override
    public Future<String> result() {
      return result.future();
    }

    @Override
    public void cancel() {
      if (result.tryComplete(text.toString()) && request != null) {
        request.reset();
      }
    }
  }

  private static String truncate(String s) {
    return s.length() <= MAX_ERROR_BODY_CHARS ? s : s.substring(0, MAX_ERROR_BODY_CHARS) + "…";
  }
}
