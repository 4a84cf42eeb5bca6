package io.voicemesh.llm;

import io.vertx.core.Future;
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
import io.vertx.core.net.PemTrustOptions;
import io.vertx.core.parsetools.RecordParser;
import io.voicemesh.api.ErrorCode;
import io.voicemesh.api.MeshException;
import io.voicemesh.api.engine.Generation;
import io.voicemesh.api.engine.GenerationListener;
import io.voicemesh.api.engine.LlmEngine;
import io.voicemesh.api.engine.Toolbox;
import io.voicemesh.api.message.ChatMessage;
import io.voicemesh.api.message.GenerateRequest;
import io.voicemesh.api.message.ToolCall;
import io.voicemesh.api.message.ToolSpec;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/**
 * {@code openai}: any OpenAI-compatible {@code POST /chat/completions} endpoint with
 * {@code stream: true} (OpenAI, vLLM, Ollama, llama.cpp server). Reads the server-sent events
 * line by line:
 * <pre>
 * data: {"choices":[{"delta":{"role":"assistant"}}]}
 * data: {"choices":[{"delta":{"content":"Hel"}}]}                     text, streamed on
 * data: {"choices":[{"delta":{"tool_calls":[{"index":0,"id":"call_1",
 *        "function":{"name":"calculate","arguments":"{\"a\":"}}]}}]}   a tool call, in pieces
 * …
 * data: [DONE]
 * </pre>
 * When a round ends with tool calls, each runs once through the agent's {@link Toolbox}, the
 * results go back as {@code tool} messages, and the next round streams on, up to
 * {@link #MAX_ROUNDS}. Tools the client runs ({@code GenerateRequest.clientTools}) are declared too;
 * a round that calls one ends the generation: the calls go to the client, whose outputs come back as
 * {@code tool} messages of the next turn. Every failure — refused connection, non-200 status, an error object, a
 * stream that stops before {@code [DONE]}, silence longer than the idle timeout — fails the
 * generation with {@code engine_unavailable}.
 */
final class OpenAiEngine implements LlmEngine {
  static final int MAX_ROUNDS = 4;
  private static final int MAX_ERROR_BODY_CHARS = 300;

  record Settings(String baseUrl, String model, String apiKey, String instructions, long connectTimeoutMs,
      long idleTimeoutMs, JsonObject extraBody, String caCertPath) {
  }

  private final HttpClient client;
  private final Settings settings;

  OpenAiEngine(Vertx vertx, Settings settings) {
    this.settings = settings;
    HttpClientOptions options = new HttpClientOptions()
        .setConnectTimeout((int) settings.connectTimeoutMs())
        .setKeepAlive(true);
    if (settings.caCertPath() != null && !settings.caCertPath().isBlank()) {
      // A self-hosted endpoint with a private CA: trust exactly that CA (https URLs otherwise use the JDK's).
      options.setTrustOptions(new PemTrustOptions().addCertPath(settings.caCertPath()));
    }
    this.client = vertx.createHttpClient(options);
  }

  @Override
  public Generation generate(GenerateRequest request, Toolbox tools, GenerationListener listener) {
    JsonArray messages = new JsonArray();
    if (settings.instructions() != null && !settings.instructions().isBlank()) {
      messages.add(message(ChatMessage.system(settings.instructions())));
    }
    request.messages().forEach(m -> messages.add(message(m)));
    ChatLoop loop = new ChatLoop(tools, request.clientTools(), listener);
    loop.round(messages, 1);
    return loop;
  }

  private static JsonObject message(ChatMessage m) {
    JsonObject message = new JsonObject().put("role", m.role().wire()).put("content", m.text());
    if (m.toolCalls() != null) {
      JsonArray calls = new JsonArray();
      m.toolCalls().forEach(call -> calls.add(new JsonObject().put("id", call.callId()).put("type", "function")
          .put("function", new JsonObject().put("name", call.name()).put("arguments", call.arguments().encode()))));
      message.put("tool_calls", calls);
    }
    if (m.toolCallId() != null) {
      message.put("tool_call_id", m.toolCallId());
    }
    return message;
  }

  @Override
  public void close() {
    client.close();
  }

  /** A tool call as it streams in: id and name first, arguments in pieces. */
  private static final class PendingCall {
    String id;
    String name;
    final StringBuilder arguments = new StringBuilder();
  }

  /** One turn: streamed rounds with tool calls run in between. */
  private final class ChatLoop implements Generation {
    private final Promise<String> result = Promise.promise();
    private final StringBuilder text = new StringBuilder();
    private final Toolbox tools;
    private final List<ToolSpec> clientTools;
    private final GenerationListener listener;
    private HttpClientRequest request;
    private boolean cancelled;

    ChatLoop(Toolbox tools, List<ToolSpec> clientTools, GenerationListener listener) {
      this.tools = tools;
      this.clientTools = clientTools;
      this.listener = listener;
    }

    private boolean runsOnClient(PendingCall call) {
      return !tools.has(call.name) && clientTools.stream().anyMatch(spec -> spec.name().equals(call.name));
    }

    void round(JsonArray messages, int round) {
      JsonObject body = settings.extraBody().copy()
          .put("model", settings.model())
          .put("stream", true)
          .put("messages", messages);
      if (!tools.specs().isEmpty() || !clientTools.isEmpty()) {
        JsonArray declared = new JsonArray();
        java.util.stream.Stream.concat(tools.specs().stream(), clientTools.stream().filter(spec -> !tools.has(spec.name())))
            .forEach(spec -> declared.add(new JsonObject().put("type", "function").put("function",
                new JsonObject().put("name", spec.name()).put("description", spec.description())
                    .put("parameters", spec.parameters()))));
        body.put("tools", declared);
      }
      stream(body).onComplete(done -> {
        if (done.failed()) {
          result.tryFail(done.cause());
        } else if (cancelled || done.result().isEmpty()) {
          result.tryComplete(text.toString());
        } else if (done.result().stream().anyMatch(this::runsOnClient)) {
          // The client runs these: the turn ends with its calls; their outputs start the next turn.
          done.result().stream().filter(this::runsOnClient).forEach(call -> listener.clientToolCall(
              new ToolCall(call.id, call.name, arguments(call))));
          result.tryComplete(text.toString());
        } else if (round >= MAX_ROUNDS) {
          result.tryFail(new MeshException(ErrorCode.ENGINE_UNAVAILABLE,
              "openai engine: still calling tools after " + MAX_ROUNDS + " rounds"));
        } else {
          runTools(messages, done.result()).onComplete(ran -> {
            if (cancelled) {
              result.tryComplete(text.toString());
            } else {
              round(messages, round + 1);
            }
          });
        }
      });
    }

    /** Runs the calls one after another, appending the assistant's calls and their results. */
    private Future<Void> runTools(JsonArray messages, List<PendingCall> calls) {
      JsonArray declared = new JsonArray();
      calls.forEach(c -> declared.add(new JsonObject().put("id", c.id).put("type", "function")
          .put("function", new JsonObject().put("name", c.name).put("arguments", c.arguments.toString()))));
      messages.add(new JsonObject().put("role", "assistant").putNull("content").put("tool_calls", declared));
      Future<Void> chain = Future.succeededFuture();
      for (PendingCall pending : calls) {
        chain = chain.compose(v -> {
          if (cancelled) {
            return Future.succeededFuture();
          }
          JsonObject arguments;
          try {
            arguments = pending.arguments.isEmpty() ? new JsonObject() : new JsonObject(pending.arguments.toString());
          } catch (DecodeException e) {
            messages.add(toolMessage(pending.id, new JsonObject().put("error", "arguments are not a JSON object")));
            return Future.succeededFuture();
          }
          return tools.run(new ToolCall(pending.id, pending.name, arguments), listener)
              .transform(outcome -> {
                messages.add(toolMessage(pending.id, outcome.succeeded() ? outcome.result()
                    : new JsonObject().put("error", outcome.cause().getMessage())));
                return Future.succeededFuture();
              });
        });
      }
      return chain;
    }

    /** The call's arguments as the model wrote them; an empty object when they are not a JSON object. */
    private static JsonObject arguments(PendingCall call) {
      try {
        return call.arguments.isEmpty() ? new JsonObject() : new JsonObject(call.arguments.toString());
      } catch (DecodeException e) {
        return new JsonObject();
      }
    }

    private JsonObject toolMessage(String callId, JsonObject content) {
      return new JsonObject().put("role", "tool").put("tool_call_id", callId).put("content", content.encode());
    }

    /** Streams one completion; completes with its tool calls (empty when it answered in text). */
    private Future<List<PendingCall>> stream(JsonObject body) {
      Promise<List<PendingCall>> calls = Promise.promise();
      TreeMap<Integer, PendingCall> pending = new TreeMap<>();
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
      client.request(options)
          .compose(httpRequest -> {
            request = httpRequest;
            return httpRequest.send(body.toBuffer());
          })
          .onSuccess(response -> consume(response, pending, calls))
          .onFailure(e -> fail(calls, "cannot reach " + options.getURI() + ": " + e.getMessage()));
      return calls.future();
    }

    private void consume(HttpClientResponse response, TreeMap<Integer, PendingCall> pending,
        Promise<List<PendingCall>> calls) {
      if (response.statusCode() != 200) {
        response.body().onComplete(body -> fail(calls, "endpoint answered HTTP " + response.statusCode()
            + (body.succeeded() ? ": " + truncate(body.result().toString()) : "")));
        return;
      }
      response.handler(RecordParser.newDelimited("\n", raw -> line(raw, pending, calls)));
      response.exceptionHandler(e -> fail(calls, "stream broke: " + e.getMessage()));
      response.endHandler(v -> fail(calls, "stream ended before [DONE]"));
    }

    private void line(Buffer raw, TreeMap<Integer, PendingCall> pending, Promise<List<PendingCall>> calls) {
      String line = raw.toString(StandardCharsets.UTF_8).strip();
      if (!line.startsWith("data:") || calls.future().isComplete()) {
        return;
      }
      String data = line.substring(5).strip();
      if (data.equals("[DONE]")) {
        calls.tryComplete(new ArrayList<>(pending.values()));
        return;
      }
      JsonObject chunk;
      try {
        chunk = new JsonObject(data);
      } catch (DecodeException e) {
        fail(calls, "malformed stream chunk: " + truncate(data));
        return;
      }
      if (chunk.containsKey("error")) {
        fail(calls, "endpoint reported an error: " + truncate(String.valueOf(chunk.getValue("error"))));
        return;
      }
      JsonArray choices = chunk.getJsonArray("choices", new JsonArray());
      JsonObject delta = choices.isEmpty() ? null : choices.getJsonObject(0).getJsonObject("delta");
      if (delta == null || cancelled) {
        return;
      }
      String content = delta.getString("content");
      if (content != null && !content.isEmpty()) {
        text.append(content);
        listener.delta(content);
      }
      for (Object item : delta.getJsonArray("tool_calls", new JsonArray())) {
        JsonObject piece = (JsonObject) item;
        PendingCall call = pending.computeIfAbsent(piece.getInteger("index", 0), i -> new PendingCall());
        call.id = piece.getString("id", call.id);
        JsonObject function = piece.getJsonObject("function", new JsonObject());
        call.name = function.getString("name", call.name);
        call.arguments.append(function.getString("arguments", ""));
      }
    }

    private void fail(Promise<List<PendingCall>> calls, String why) {
      if (calls.tryFail(new MeshException(ErrorCode.ENGINE_UNAVAILABLE, "openai engine: " + why)) && request != null) {
        request.reset();
      }
    }

    @Override
    public Future<String> result() {
      return result.future();
    }

    /** Stops streaming at once; a tool already running finishes (and is reported), nothing follows it. */
    @Override
    public void cancel() {
      cancelled = true;
      if (request != null) {
        request.reset();
      }
      result.tryComplete(text.toString());
    }
  }

  private static String truncate(String s) {
    return s.length() <= MAX_ERROR_BODY_CHARS ? s : s.substring(0, MAX_ERROR_BODY_CHARS) + "…";
  }
}
