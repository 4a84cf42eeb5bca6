package io.voicemesh.llm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.SelfSignedCertificate;
import io.vertx.junit5.VertxExtension;
import io.voicemesh.api.ErrorCode;
import io.voicemesh.api.MeshException;
import io.voicemesh.api.engine.GenerationListener;
import io.voicemesh.api.engine.Toolbox;
import io.voicemesh.api.message.ChatMessage;
import io.voicemesh.api.message.GenerateRequest;
import io.voicemesh.api.message.ToolCall;
import io.voicemesh.api.message.ToolSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The openai engine over real TLS: what hosted OpenAI-compatible endpoints speak. */
@ExtendWith(VertxExtension.class)
@DisplayName("The openai engine over https")
class OpenAiEngineTlsTest {
  private static final Toolbox NO_TOOLS = new Toolbox() {
    @Override
    public List<ToolSpec> specs() {
      return List.of();
    }

    @Override
    public Future<JsonObject> call(String name, JsonObject arguments) {
      return Future.failedFuture("no tools");
    }
  };

  @Test
  @DisplayName("refuses a certificate it does not trust, and streams once the endpoint's CA is configured")
  void tls(Vertx vertx) throws Exception {
    SelfSignedCertificate certificate = SelfSignedCertificate.create("localhost");
    HttpServer server = vertx.createHttpServer(new HttpServerOptions().setSsl(true)
            .setKeyCertOptions(certificate.keyCertOptions()))
        .requestHandler(request -> request.response().setChunked(true).putHeader("Content-Type", "text/event-stream")
            .end("data: {\"choices\":[{\"delta\":{\"content\":\"Secure hello.\"}}]}\n\ndata: [DONE]\n\n"))
        .listen(0, "127.0.0.1").await(10, TimeUnit.SECONDS);
    String baseUrl = "https://localhost:" + server.actualPort() + "/v1";
    GenerateRequest request = new GenerateRequest("s", "t", "a", List.of(ChatMessage.user("hi")), "reply");

    ExecutionException untrusted = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
        () -> generate(vertx, settings(baseUrl, null), request));
    assertEquals(ErrorCode.ENGINE_UNAVAILABLE, ((MeshException) untrusted.getCause()).code());

    List<String> deltas = new ArrayList<>();
    assertEquals("Secure hello.", generate(vertx, settings(baseUrl, certificate.certificatePath()), request, deltas));
    assertEquals(List.of("Secure hello."), deltas);
    assertTrue(untrusted.getCause().getMessage().startsWith("openai engine: cannot reach"), untrusted.getCause().getMessage());
  }

  private static OpenAiEngine.Settings settings(String baseUrl, String caCertPath) {
    return new OpenAiEngine.Settings(baseUrl, "m", "k", "", 2_000, 5_000, new JsonObject(), caCertPath);
  }

  private static String generate(Vertx vertx, OpenAiEngine.Settings settings, GenerateRequest request) throws Exception {
    return generate(vertx, settings, request, new ArrayList<>());
  }

  private static String generate(Vertx vertx, OpenAiEngine.Settings settings, GenerateRequest request, List<String> deltas)
      throws Exception {
    OpenAiEngine engine = new OpenAiEngine(vertx, settings);
    Promise<String> answer = Promise.promise();
    try {
      // Engines are called on an event loop, as the LLM verticle does.
      vertx.runOnContext(v -> engine.generate(request, NO_TOOLS, new GenerationListener() {
            @Override
            public void delta(String text) {
              deltas.add(text);
            }

            @Override
            public void toolStarted(ToolCall call) {
            }

            @Override
            public void toolFinished(ToolCall call, JsonObject result, Throwable failure) {
            }
          }).result().onComplete(answer));
      return answer.future().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    } finally {
      engine.close();
    }
  }
}
