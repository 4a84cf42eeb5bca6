package io.voicemesh.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.voicemesh.gateway.Caller;
import io.voicemesh.gateway.JwtTokens;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

@DisplayName("voicemesh token")
class TokenCommandTest {

  @Test
  @DisplayName("mints a token with the data folder's local secret that the mesh's key verifies, for the given user and ttl")
  void mintsWithTheLocalSecret(@TempDir Path dataDir) throws Exception {
    String token = run("token", "--user", "ada", "--ttl", "30m", "--data-dir", dataDir.toString());
    Path secret = dataDir.resolve(AuthKeys.SECRET_FILE);
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(secret)));
    JsonObject claims = new JsonObject(new String(Base64.getUrlDecoder().decode(token.split("\\.")[1]),
        StandardCharsets.UTF_8));
    assertEquals("ada", claims.getString("sub"));
    long ttl = claims.getLong("exp") - Instant.now().getEpochSecond();
    assertTrue(ttl > 1790 && ttl <= 1800, "30 minutes: " + ttl);

    Vertx vertx = Vertx.vertx();
    try {
      AuthKeys keys = AuthKeys.resolve(MeshConfig.load(null, Map.of("voicemesh.dataDir", dataDir.toString())));
      Caller caller = JwtTokens.from(vertx, keys.gatewayAuth()).verify(token).await(10, TimeUnit.SECONDS);
      assertEquals("ada", caller.user());
      assertTrue(caller.roles().isEmpty() && !caller.admin(), "no roles without --admin");
      Caller admin = JwtTokens.from(vertx, keys.gatewayAuth())
          .verify(run("token", "--user", "ops", "--admin", "--data-dir", dataDir.toString())).await(10, TimeUnit.SECONDS);
      assertEquals(java.util.Set.of("admin"), admin.roles());
      assertTrue(admin.admin());
      // Another data folder has another secret.
      // Inside the test's folder, so it goes with it.
      Path other = Files.createDirectories(dataDir.resolve("other"));
      AuthKeys otherKeys = AuthKeys.resolve(MeshConfig.load(null, Map.of("voicemesh.dataDir", other.toString())));
      assertNotEquals(keys.gatewayAuth().getString("secret"), otherKeys.gatewayAuth().getString("secret"));
    } finally {
      vertx.close().await(10, TimeUnit.SECONDS);
    }
    String scoped = run("token", "--user", "ada", "--session", "s-9", "--data-dir", dataDir.toString());
    assertTrue(new String(Base64.getUrlDecoder().decode(scoped.split("\\.")[1]), StandardCharsets.UTF_8)
        .contains("\"sid\":\"s-9\""));
  }

  @Test
  @DisplayName("refuses a missing user and a non-positive ttl")
  void refusesBadArguments(@TempDir Path dataDir) {
    assertNotEquals(0, new CommandLine(new VoiceMeshCommand()).execute("token", "--data-dir", dataDir.toString()));
    assertNotEquals(0, new CommandLine(new VoiceMeshCommand()).execute("token", "--user", "a", "--ttl", "0s",
        "--data-dir", dataDir.toString()));
  }

  private static String run(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    PrintStream original = System.out;
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    try {
      assertEquals(0, new CommandLine(new VoiceMeshCommand()).execute(args));
    } finally {
      System.setOut(original);
    }
    return out.toString(StandardCharsets.UTF_8).trim();
  }
}
