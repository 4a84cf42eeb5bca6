package io.voicemesh.launcher;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * A stand-in for a remote OpenAI-compatible API (the one third-party service we cannot run here),
 * speaking its real streaming wire format on {@code POST /v1/chat/completions}:
 * {@code text/event-stream} of {@code chat.completion.chunk} objects — a role chunk, content
 * chunks, a finish chunk — then {@code data: [DONE]}. Each request takes the next scripted
 * {@link Reply}; every request body is recorded.
 */
final class ScriptedOpenAiServer implements AutoCloseable {
  sealed interface Reply {
  }

  /** Streams these content pieces, then finishes properly. */
  record Answer(List<String> pieces) implements Reply {
  }

  /** Streams these pieces, then drops the connection without [DONE]. */
  record BreakMidStream(List<String> pieces) implements Reply {
  }

  /** Accepts the request and never says a word. */
  record Silence() implements Reply {
  }

  /** One tool call as the model streams it: the arguments' JSON text cut into pieces. */
  record ScriptedCall(String id, String name, List<String> argumentPieces) {
  }

  /** Streams these tool calls, then finishes with finish_reason "tool_calls". */
  record ToolCalls(List<ScriptedCall> calls) implements Reply {
  }

  /** Answers with an HTTP error status and an OpenAI error body. */
  record HttpError(int status) implements Reply {
  }

  private final Vertx vertx;
  private final HttpServer server;
  private final Deque<Reply> script = new ArrayDeque<>();
  private final List<JsonObject> requests = new CopyOnWriteArrayList<>();
  private final List<String> authorizations = new CopyOnWriteArrayList<>();

  ScriptedOpenAiServer() throws Exception {
    vertx = Vertx.vertx();
    server = vertx.createHttpServer().requestHandler(this::handle).listen(0, "127.0.0.1").await(10, TimeUnit.SECONDS);
  }

  /** For static fields, which cannot throw checked exceptions. */
  static ScriptedOpenAiServer startUnchecked() {
    try {
      return new ScriptedOpenAiServer();
    } catch (Exception e) {
      throw new IllegalStateException("the scripted OpenAI server did not start", e);
    }
  }

  /** An agent named {@code scripted} on the {@code openai} engine, answering from this server's script. */
  static final String AGENT = "scripted";

  /** A long answer: five sentences, about three seconds of speech each. */
  static final List<String> STORY = List.of(
      "Once upon a time a small boat sailed across the quiet sea.",
      "The sailor watched the stars and sang a song about the wind.",
      "At dawn the island appeared, green and bright above the waves.",
      "He tied the boat to an old tree and walked along the sand.",
      "That evening he wrote a letter home and slept beside the fire.");

  /** The settings that add agent {@link #AGENT} to a mesh. */
  Map<String, Object> agentSettings() {
    return Map.of("voicemesh.llm.agents.scripted.engine", "openai",
        "voicemesh.llm.agents.scripted.baseUrl", baseUrl(),
        "voicemesh.llm.agents.scripted.model", "test-model");
  }

  String baseUrl() {
    return "http://127.0.0.1:" + server.actualPort() + "/v1";
  }

  synchronized void script(Reply... replies) {
    script.addAll(List.of(replies));
  }

  List<JsonObject> requests() {
    return requests;
  }

  List<String> authorizations() {
    return authorizations;
  }

  private void handle(HttpServerRequest request) {
    if (!request.path().equals("/v1/chat/completions") || request.method().name().equals("GET")) {
      request.response().setStatusCode(404).end();
      return;
    }
    request.body().onSuccess(body -> {
      requests.add(body.toJsonObject());
      authorizations.add(request.getHeader("Authorization"));
      Reply reply;
      synchronized (this) {
        reply = script.isEmpty() ? new Answer(List.of("Nothing was scripted.")) : script.removeFirst();
      }
      var response = request.response();
      if (reply instanceof HttpError error) {
        response.setStatusCode(error.status()).putHeader("Content-Type", "application/json")
            .end(new JsonObject().put("error", new JsonObject().put("message", "scripted failure")
                .put("type", "server_error")).encode());
        return;
      }
      if (reply instanceof Silence) {
        return;
      }
      response.setChunked(true).putHeader("Content-Type", "text/event-stream").putHeader("Cache-Control", "no-cache");
      response.write(event(new JsonObject().put("role", "assistant").put("content", ""), null));
      if (reply instanceof ToolCalls toolCalls) {
        for (int i = 0; i < toolCalls.calls().size(); i++) {
          ScriptedCall call = toolCalls.calls().get(i);
          response.write(event(toolCallDelta(i, new JsonObject().put("id", call.id()).put("type", "function")
              .put("function", new JsonObject().put("name", call.name()).put("arguments", ""))), null));
          for (String piece : call.argumentPieces()) {
            response.write(event(toolCallDelta(i, new JsonObject()
                .put("function", new JsonObject().put("arguments", piece))), null));
          }
        }
        response.write(event(new JsonObject(), "tool_calls"));
        response.end("data: [DONE]\n\n");
        return;
      }
      List<String> pieces = reply instanceof Answer a ? a.pieces() : ((BreakMidStream) reply).pieces();
      pieces.forEach(piece -> response.write(event(new JsonObject().put("content", piece), null)));
      if (reply instanceof BreakMidStream) {
        request.connection().close();
        return;
      }
      response.write(event(new JsonObject(), "stop"));
      response.end("data: [DONE]\n\n");
    });
  }

  private static JsonObject toolCallDelta(int index, JsonObject call) {
    return new JsonObject().put("tool_calls", new JsonArray().add(call.put("index", index)));
  }

  private static String event(JsonObject delta, String finishReason) {
    JsonObject chunk = new JsonObject()
        .put("id", "chatcmpl-test")
        .put("object", "chat.completion.chunk")
        .put("created", System.currentTimeMillis() / 1000)
        .put("model", "test-model")
        .put("choices", new JsonArray().add(new JsonObject().put("index", 0).put("delta", delta)
            .put("finish_reason", finishReason)));
    return "data: " + chunk.encode() + "\n\n";
  }

  @Override
  public void close() throws Exception {
    vertx.close().await(10, TimeUnit.SECONDS);
  }
}
