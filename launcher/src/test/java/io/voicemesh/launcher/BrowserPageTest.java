package io.voicemesh.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.voicemesh.api.audio.Pcm16;
import io.voicemesh.api.audio.Wav;
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
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The web page in a real browser: Debian's headless Chromium, driven over the DevTools protocol,
 * with a FreeTTS recording as its microphone. CI installs Chromium (.ci/run); elsewhere the test
 * is skipped when {@code /usr/bin/chromium} is missing.
 */
@DisplayName("The web page in a real browser")
@EnabledIf("chromiumOrCi")
@Timeout(180)
class BrowserPageTest {
  private static final Path CHROMIUM = Path.of(System.getProperty("chromium", "/usr/bin/chromium"));
  @RegisterExtension
  static final TestMesh mesh = TestMesh.withDefaults();

  /** Outside CI the test needs a local Chromium; in CI (.ci/run installs it) it always runs. */
  static boolean chromiumOrCi() {
    return System.getenv("CI") != null || Files.isExecutable(CHROMIUM);
  }

  @Test
  @DisplayName("after Start talking, a spoken question shows as the user's words and the agent answers it")
  void talkThroughThePage() throws Exception {
    Path profile = Files.createTempDirectory(Path.of("target").toAbsolutePath(), "chromium-");
    byte[] question = Speech.say("what time is it");
    byte[] withPause = new byte[question.length + Pcm16.bytesFor(Pcm16.DEFAULT_RATE_HZ, 3_000)];
    System.arraycopy(question, 0, withPause, Pcm16.bytesFor(Pcm16.DEFAULT_RATE_HZ, 500), question.length);
    Path microphone = profile.resolve("microphone.wav");
    Files.write(microphone, Wav.write(Pcm16.DEFAULT_RATE_HZ, withPause));
    String page = "http://127.0.0.1:" + mesh.port() + "/";
    Process chromium = new ProcessBuilder(CHROMIUM.toString(), "--headless", "--no-sandbox", "--disable-gpu",
        "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--user-data-dir=" + profile, "--remote-debugging-port=0",
        "--autoplay-policy=no-user-gesture-required", "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream", "--use-file-for-fake-audio-capture=" + microphone,
        page + "#token=" + mesh.token(TestMesh.USER))
        .redirectErrorStream(true)
        .redirectOutput(profile.resolve("chromium.log").toFile())
        .start();
    try (DevTools devTools = DevTools.attach(mesh, profile.resolve("DevToolsActivePort"), page)) {
      devTools.waitFor("document.readyState === 'complete' && !!document.querySelector('#start')", 20);
      // The page takes the token from the link the server prints, and drops it from the address bar.
      devTools.waitFor("location.hash === '' && document.querySelector('#token').value.split('.').length === 3", 20);
      devTools.evaluate("document.querySelector('#start').click()");
      devTools.waitFor("[...document.querySelectorAll('.msg.agent .bubble')]"
          + ".some(b => /The time is \\d{1,2}:\\d{2} [AP]M\\./.test(b.textContent))", 60);
      JsonObject shown = new JsonObject(devTools.evaluate("JSON.stringify({"
          + "user: [...document.querySelectorAll('.msg.user:not(.partial) .bubble')].map(b => b.textContent),"
          + "agent: [...document.querySelectorAll('.msg.agent .bubble')].map(b => b.textContent),"
          + "errors: document.querySelector('#errors').innerText})").getString("value"));
      JsonArray user = shown.getJsonArray("user");
      assertTrue(!user.isEmpty() && user.getString(0).contains("time"), "the page shows what was said: " + shown);
      VoiceTurnTest.assertAnswerIsTheTimeNow(shown.getJsonArray("agent").getString(0));
      assertEquals("", shown.getString("errors").trim(), "no errors on the page");
    } finally {
      chromium.destroy();
      if (!chromium.waitFor(10, TimeUnit.SECONDS)) {
        chromium.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
      try (Stream<Path> files = Files.walk(profile)) {
        files.sorted((a, b) -> b.compareTo(a)).forEach(p -> p.toFile().delete());
      }
    }
  }

  /** A minimal Chrome DevTools Protocol client on one page target. */
  private static final class DevTools implements AutoCloseable {
    private final WebSocket socket;
    private final AtomicInteger ids = new AtomicInteger();
    private final Map<Integer, CompletableFuture<JsonObject>> pending = new ConcurrentHashMap<>();

    private DevTools(WebSocket socket) {
      this.socket = socket;
      socket.textMessageHandler(text -> {
        JsonObject message = new JsonObject(text);
        CompletableFuture<JsonObject> reply = message.containsKey("id") ? pending.remove(message.getInteger("id")) : null;
        if (reply != null) {
          reply.complete(message);
        }
      });
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
      return mesh.clientVertx().createWebSocketClient().connect(new WebSocketConnectOptions().setHost(ws.getHost())
              .setPort(ws.getPort()).setURI(ws.getPath()).setAllowOriginHeader(false))
          .map(DevTools::new).await(10, TimeUnit.SECONDS);
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
      socket.close();
    }
  }
}
