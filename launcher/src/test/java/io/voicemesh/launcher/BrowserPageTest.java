package io.voicemesh.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.voicemesh.api.audio.Pcm16;
import io.voicemesh.api.audio.Wav;
import java.nio.file.Files;
import java.nio.file.Path;
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
      DevTools.stopBrowser(chromium, profile);
    }
  }
}
