package io.voicemesh.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code /dashboard} in Debian's headless Chromium with an admin token: the nodes, a live session and
 * its transcript during a spoken turn. The screenshot stays in {@code target/dashboard/dashboard.png}.
 */
@DisplayName("The dashboard page in a real browser")
@EnabledIf("io.voicemesh.launcher.BrowserPageTest#chromiumOrCi")
@Timeout(180)
class DashboardPageTest {
  private static final Path CHROMIUM = Path.of(System.getProperty("chromium", "/usr/bin/chromium"));
  static final Path SCREENSHOT = Path.of("target", "dashboard", "dashboard.png");
  @RegisterExtension
  static final TestMesh mesh = TestMesh.withDefaults();

  @Test
  @DisplayName("shows the node with its role bars, the live session, and its transcript while it is spoken to")
  void liveSession() throws Exception {
    Path profile = Files.createTempDirectory(Path.of("target").toAbsolutePath(), "chromium-");
    String page = "http://127.0.0.1:" + mesh.port() + "/dashboard";
    String admin = mesh.mesh().tokens().mint("ops", null, Instant.now().plusSeconds(600), List.of("admin")).token();
    Process chromium = new ProcessBuilder(CHROMIUM.toString(), "--headless", "--no-sandbox", "--disable-gpu",
        "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--user-data-dir=" + profile, "--remote-debugging-port=0", "--window-size=1280,1500",
        page + "#token=" + admin)
        .redirectErrorStream(true)
        .redirectOutput(profile.resolve("chromium.log").toFile())
        .start();
    try (DevTools devTools = DevTools.attach(mesh, profile.resolve("DevToolsActivePort"), page)) {
      devTools.waitFor("document.readyState === 'complete' && location.hash === ''", 20);
      // The node, with a load bar per role, from dashboard.nodes.
      devTools.waitFor("['gateway','session','stt','llm','tts'].every(r => "
          + "document.querySelector('#nodes tr[data-node] .role[data-role=\"' + r + '\"] .bar'))", 20);
      assertTrue(devTools.evaluate("document.querySelector('#nodes tbody').innerText").getString("value").contains("UP"));

      String user = TestMesh.uniqueUser("caller");
      String token = mesh.token(user);
      String sessionId = new Rest(mesh.port()).post("/api/v1/sessions", token, new JsonObject()).json().getString("sessionId");
      String row = "document.querySelector('#sessions tr[data-session=\"" + sessionId + "\"]')";
      devTools.waitFor(row + " && " + row + ".innerText.includes('" + user + "')", 20);
      devTools.evaluate(row + ".click()");
      // The session's status (a session.status request over the bridge) shows once its events are followed.
      devTools.waitFor("document.querySelector('#detail-state').textContent.includes('active')", 20);

      try (VoiceClient client = mesh.connect("token=" + token + "&sessionId=" + sessionId)) {
        client.await("session.ready", Duration.ofSeconds(20));
        client.speakRealtime(Speech.say("what time is it"), 1200);
        client.await("agent_completed", Duration.ofSeconds(60));
        devTools.waitFor("[...document.querySelectorAll('#detail-transcript .msg.user:not(.partial) .bubble')]"
            + ".some(b => b.textContent.includes('time'))", 20);
        devTools.waitFor("[...document.querySelectorAll('#detail-transcript .msg.agent .bubble')]"
            + ".some(b => /The time is \\d{1,2}:\\d{2} [AP]M\\./.test(b.textContent))", 20);
        // The finished turn counts in the table and in the latency chart.
        devTools.waitFor(row + ".children[3].textContent === '1' && " + row + ".children[5].textContent.endsWith('ms')", 20);
        devTools.waitFor("!!document.querySelector('#latency .uplot canvas')", 10);
        devTools.screenshot(SCREENSHOT);
        assertTrue(Files.size(SCREENSHOT) > 10_000, "a screenshot with something on it");
        assertEquals("", devTools.evaluate("document.querySelector('#errors').innerText").getString("value").trim(),
            "no errors on the page");

        // A dashboard opened while the session is already live lists it (with its user and turns)
        // before anything changes: dashboard.sessions only tells changes, the page asks for the rest.
        devTools.evaluate("location.reload()");
        devTools.waitFor("document.readyState === 'complete' && !!document.querySelector('#nodes')", 20);
        devTools.waitFor(row + " && " + row + ".innerText.includes('" + user + "') && "
            + row + ".children[3].textContent === '1' && " + row + ".children[4].textContent === 'active'", 20);
      }
    } finally {
      DevTools.stopBrowser(chromium, profile);
    }
  }

  @Test
  @DisplayName("serves the official bridge client byte for byte as npm's @vertx/eventbus-bridge-client.js 1.0.0")
  void vendoredClientIsNpms() throws Exception {
    Path npm = BridgeDriver.DIR.resolve("node_modules/@vertx/eventbus-bridge-client.js");
    try (BridgeDriver ensureInstalled = BridgeDriver.start()) {
      assertEquals("1.0.0", new JsonObject(Files.readString(npm.resolve("package.json"))).getString("version"));
    }
    Rest.Response served = new Rest(mesh.port()).call("GET", "/lib/vertx-eventbus.js", null, null);
    assertEquals(200, served.status());
    assertEquals(Files.readString(npm.resolve("vertx-eventbus.js")), served.text());
    for (String lib : List.of("/webjars/sockjs-client/1.6.1/dist/sockjs.min.js", "/webjars/uplot/1.6.30/dist/uPlot.iife.min.js",
        "/dashboard")) {
      assertEquals(200, new Rest(mesh.port()).call("GET", lib, null, null).status(), lib);
    }
  }
}
