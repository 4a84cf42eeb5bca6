package io.voicemesh.launcher.worker;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a worker's settings allow before it listens: exposure, the token, the TLS files. */
@DisplayName("A speech worker's access settings")
class WorkerAccessTest {
  private static final String TOKEN = "0123456789abcdef0123";

  private static WorkerSettings settings(JsonObject worker) {
    return WorkerSettings.from(worker, new JsonObject(), new JsonObject(), "node");
  }

  @Test
  @DisplayName("listen on 127.0.0.1 by default, with no token and no TLS")
  void defaults() {
    WorkerSettings defaults = settings(new JsonObject());
    assertEquals("127.0.0.1", defaults.host());
    assertFalse(defaults.access().authenticates());
    assertFalse(defaults.access().tls());
  }

  @Test
  @DisplayName("refuse a non-loopback host without a token unless insecure; a token or insecure allows it")
  void exposure() {
    for (String host : new String[] {"0.0.0.0", "::", "192.0.2.7"}) {
      IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
          () -> settings(new JsonObject().put("host", host)));
      assertTrue(refused.getMessage().contains("refusing to listen on " + host), refused.getMessage());
      assertDoesNotThrow(() -> settings(new JsonObject().put("host", host).put("authToken", TOKEN)));
      assertDoesNotThrow(() -> settings(new JsonObject().put("host", host).put("insecure", true)));
    }
    for (String loopback : new String[] {"127.0.0.1", "localhost", "::1", "127.0.0.2"}) {
      assertDoesNotThrow(() -> settings(new JsonObject().put("host", loopback)), loopback);
    }
  }

  @Test
  @DisplayName("refuse a short token, one with spaces, a certificate without its key, and files that do not exist")
  void badSettings(@TempDir Path dir) throws Exception {
    assertThrows(IllegalArgumentException.class, () -> settings(new JsonObject().put("authToken", "short")));
    assertThrows(IllegalArgumentException.class, () -> settings(new JsonObject().put("authToken", "a token with spaces in it")));
    Path cert = Files.writeString(dir.resolve("c.pem"), "x");
    Path key = Files.writeString(dir.resolve("k.pem"), "x");
    assertThrows(IllegalArgumentException.class,
        () -> settings(new JsonObject().put("tls", new JsonObject().put("certFile", cert.toString()))));
    assertThrows(IllegalArgumentException.class, () -> settings(new JsonObject().put("tls",
        new JsonObject().put("certFile", cert.toString()).put("keyFile", dir.resolve("missing.pem").toString()))));
    assertTrue(settings(new JsonObject().put("tls", new JsonObject().put("certFile", cert.toString())
        .put("keyFile", key.toString()))).access().tls());
  }

  @Test
  @DisplayName("accept exactly 'Bearer <token>' (the scheme in any case), nothing shorter, longer or missing")
  void tokenCheck() {
    TokenCheck check = new TokenCheck(TOKEN, request -> { });
    assertTrue(check.accepts("Bearer " + TOKEN));
    assertTrue(check.accepts("bearer " + TOKEN));
    assertFalse(check.accepts(null));
    assertFalse(check.accepts(""));
    assertFalse(check.accepts(TOKEN));
    assertFalse(check.accepts("Bearer"));
    assertFalse(check.accepts("Bearer "));
    assertFalse(check.accepts("Bearer " + TOKEN.substring(1)));
    assertFalse(check.accepts("Bearer " + TOKEN + "0"));
    assertFalse(check.accepts("Basic " + TOKEN));
  }
}
