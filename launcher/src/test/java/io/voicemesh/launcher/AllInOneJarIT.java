package io.voicemesh.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The README's run command, run as a user would: a child JVM from the fat jar, on a fresh data folder. */
@DisplayName("java -jar launcher/target/voicemesh.jar")
@Timeout(240)
class AllInOneJarIT {
  private static final Duration READY_WITHIN = Duration.ofSeconds(90);

  @Test
  @DisplayName("answers /health 503 while starting, 200 with every role UP within 90 s, serves the page, and stops on SIGTERM")
  void startsServesAndStops() throws Exception {
    Path jar = Path.of(System.getProperty("voicemesh.jar", "target/voicemesh.jar"));
    assertTrue(Files.isRegularFile(jar), "the fat jar exists: " + jar.toAbsolutePath());
    Path dataDir = Files.createTempDirectory(Path.of("target"), "it-data-");
    int port = LoopbackPorts.free();
    Process process = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-jar", jar.toString(), "--port", Integer.toString(port), "--data-dir", dataDir.toString())
        .redirectErrorStream(true)
        .redirectOutput(Path.of("target", "it-voicemesh.log").toFile())
        .start();
    try {
      HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
      URI health = URI.create("http://127.0.0.1:" + port + "/health");
      List<Integer> codes = new ArrayList<>();
      long deadline = System.nanoTime() + READY_WITHIN.toNanos();
      HttpResponse<String> last = null;
      while (System.nanoTime() < deadline && process.isAlive()) {
        try {
          last = http.send(HttpRequest.newBuilder(health).timeout(Duration.ofSeconds(5)).build(),
              HttpResponse.BodyHandlers.ofString());
          codes.add(last.statusCode());
          if (last.statusCode() == 200) {
            break;
          }
        } catch (IOException notListeningYet) {
          // The JVM is still starting; poll again.
        }
        TimeUnit.MILLISECONDS.sleep(100); // polling interval, bounded by the deadline above
      }
      assertTrue(last != null && last.statusCode() == 200, "ready within " + READY_WITHIN + "; codes seen " + codes);
      assertTrue(codes.contains(503), "answered 503 before every role was ready; codes seen " + codes);
      JsonObject body = new JsonObject(last.body());
      assertEquals("UP", body.getString("status"));
      for (String role : List.of("session", "stt", "llm", "tts")) {
        assertEquals("UP", body.getJsonObject("roles").getJsonObject(role).getString("status"), body.encode());
      }
      HttpResponse<String> page = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertEquals(200, page.statusCode());
      assertTrue(page.body().contains("VoiceMesh"), "the page names the product");

      // Nothing is open without a token; the start-up log says where to get one, and the jar's
      // token command mints one with the same local secret.
      URI sessions = URI.create("http://127.0.0.1:" + port + "/api/v1/sessions");
      assertEquals(401, http.send(HttpRequest.newBuilder(sessions).build(), HttpResponse.BodyHandlers.ofString())
          .statusCode());
      String log = Files.readString(Path.of("target", "it-voicemesh.log"));
      assertTrue(log.contains("token --user"), "the log says how to get a token");
      assertTrue(!log.contains("#token="), "without a terminal no token is printed into the log");
      Process mint = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
          "-jar", jar.toString(), "token", "--user", "it-user", "--data-dir", dataDir.toString())
          .redirectError(ProcessBuilder.Redirect.DISCARD).start();
      String token = new String(mint.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).trim();
      assertTrue(mint.waitFor(60, TimeUnit.SECONDS) && mint.exitValue() == 0, "token exits 0");
      HttpResponse<String> listing = http.send(HttpRequest.newBuilder(sessions).header("Authorization", "Bearer " + token)
          .build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(200, listing.statusCode(), listing.body());
      HttpResponse<String> contract = http.send(HttpRequest.newBuilder(
          URI.create("http://127.0.0.1:" + port + "/api/openapi.json")).build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(200, contract.statusCode());
      assertTrue(new JsonObject(contract.body()).getJsonObject("paths").containsKey("/api/v1/sessions"));
    } finally {
      process.destroy();
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    }
    assertTrue(!process.isAlive(), "stopped after SIGTERM");
  }
}
