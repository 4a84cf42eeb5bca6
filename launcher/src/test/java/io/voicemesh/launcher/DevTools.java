package io.voicemesh.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/** A minimal Chrome DevTools Protocol client on one page target. */
final class DevTools implements AutoCloseable {
  /** Held for as long as the socket: Vert.x closes an unreferenced client, with its connections, on GC. */
  private final io.vertx.core.http.WebSocketClient client;
  private final WebSocket socket;
  private final AtomicInteger ids = new AtomicInteger();
  private final Map<Integer, CompletableFuture<JsonObject>> pending = new ConcurrentHashMap<>();

  private DevTools(io.vertx.core.http.WebSocketClient client, WebSocket socket) {
    this.client = client;
    this.socket = socket;
    socket.textMessageHandler(text -> {
      JsonObject message = new JsonObject(text);
      CompletableFuture<JsonObject> reply = message.containsKey("id") ? pending.remove(message.getInteger("id")) : null;
      if (reply != null) {
        reply.complete(message);
      }
    });
  }

  /**
   * Stops Chromium and deletes its profile, and the folder Chromium made in the system's temporary
   * folder for its singleton socket (the profile's {@code SingletonSocket} link points into it):
   * Chromium leaves that one behind when it is stopped by a signal.
   */
  static void stopBrowser(Process chromium, Path profile) throws Exception {
    chromium.destroy();
    if (!chromium.waitFor(10, TimeUnit.SECONDS)) {
      chromium.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
    Path singleton = profile.resolve("SingletonSocket");
    Path singletonFolder = Files.isSymbolicLink(singleton) ? Files.readSymbolicLink(singleton).getParent() : null;
    TestFiles.deleteTree(profile);
    if (singletonFolder != null && singletonFolder.getFileName().toString().startsWith("org.chromium.Chromium.")) {
      TestFiles.deleteTree(singletonFolder);
    }
  }

  static DevTools attach(TestMesh mesh, Path activePortFile, String pageUrl) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (!Files.exists(activePortFile) || Files.readAllLines(activePortFile).isEmpty()) {
      assertTrue(System.nanoTime() < deadline, "Chromium did not open its DevTools port");
      TimeUnit.MILLISECONDS.sleep(50); // polling interval, bounded by the deadline
    }
    int port = Integer.parseInt(Files.readAllLines(activePortFile).get(0).trim());
    String targets = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + port + "/json/list")).build(), HttpResponse.BodyHandlers.ofString()).body();
    List<JsonObject> pages = new JsonArray(targets).stream().map(t -> (JsonObject) t)
        .filter(t -> "page".equals(t.getString("type")) && t.getString("url").startsWith(pageUrl)).toList();
    assertEquals(1, pages.size(), "one page target: " + targets);
    URI ws = URI.create(pages.get(0).getString("webSocketDebuggerUrl"));
    // Chrome refuses DevTools connections that send an Origin header.
    io.vertx.core.http.WebSocketClient client = mesh.clientVertx().createWebSocketClient(
        // Screenshots come back as one large base64 text message.
        new io.vertx.core.http.WebSocketClientOptions().setMaxFrameSize(64 << 20).setMaxMessageSize(64 << 20));
    return client.connect(new WebSocketConnectOptions().setHost(ws.getHost())
            .setPort(ws.getPort()).setURI(ws.getPath()).setAllowOriginHeader(false))
        .map(socket -> new DevTools(client, socket)).await(10, TimeUnit.SECONDS);
  }

  /** Evaluates a JavaScript expression in the page; returns its result object. */
  JsonObject evaluate(String expression) throws Exception {
    int id = ids.incrementAndGet();
    CompletableFuture<JsonObject> reply = new CompletableFuture<>();
    pending.put(id, reply);
    socket.writeTextMessage(new JsonObject().put("id", id).put("method", "Runtime.evaluate")
        .put("params", new JsonObject().put("expression", expression).put("returnByValue", true)
            .put("userGesture", true)).encode());
    JsonObject result = reply.get(10, TimeUnit.SECONDS).getJsonObject("result");
    assertTrue(!result.containsKey("exceptionDetails"), "page script failed: " + result);
    return result.getJsonObject("result");
  }

  /** Saves a PNG of the page as it is now. */
  void screenshot(java.nio.file.Path file) throws Exception {
    String png = call("Page.captureScreenshot", new JsonObject().put("format", "png"), 60).getString("data");
    Files.createDirectories(file.toAbsolutePath().getParent());
    Files.write(file, java.util.Base64.getDecoder().decode(png));
  }

  /** One DevTools command and its result. */
  JsonObject call(String method, JsonObject params, int seconds) throws Exception {
    int id = ids.incrementAndGet();
    CompletableFuture<JsonObject> reply = new CompletableFuture<>();
    pending.put(id, reply);
    socket.writeTextMessage(new JsonObject().put("id", id).put("method", method).put("params", params).encode());
    JsonObject answer = reply.get(seconds, TimeUnit.SECONDS);
    assertTrue(!answer.containsKey("error"), method + ": " + answer);
    return answer.getJsonObject("result");
  }

  /** Polls a boolean expression until it holds; fails after {@code seconds}. */
  void waitFor(String condition, int seconds) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (!Boolean.TRUE.equals(evaluate("!!(" + condition + ")").getValue("value"))) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not within " + seconds + " s: " + condition + "; page text: "
            + evaluate("document.body.innerText").getString("value"));
      }
      TimeUnit.MILLISECONDS.sleep(100); // polling interval, bounded by the deadline
    }
  }

  @Override
  public void close() {
    socket.close().eventually(client::close);
  }
}
