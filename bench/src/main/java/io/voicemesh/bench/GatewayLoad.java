package io.voicemesh.bench;

import io.voicemesh.launcher.Mesh;
import io.voicemesh.launcher.MeshConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Figure 2 (and 5): the all-in-one mesh in this JVM with the {@code passthrough} STT engine, so a
 * session costs what the mesh itself costs: WebSocket, gateway checks, event bus to the STT
 * stream, 20 ms windows, speech detector, worker hand-off.
 */
final class GatewayLoad {
  /** The voice endpoint with a token for the bench's user, signed with the mesh's key. */
  static String voiceUri(Mesh mesh) {
    return "/v1/voice?token=" + mesh.tokens().mint("bench", null, Instant.now().plus(Duration.ofDays(1))).token();
  }

  private GatewayLoad() {
  }

  /** Settings every in-process mesh of the bench shares: loopback, a free port, its own data. */
  static Map<String, Object> meshSettings(Path dataDir, String node) {
    Map<String, Object> settings = new HashMap<>();
    settings.put("voicemesh.gateway.port", 0);
    settings.put("voicemesh.gateway.host", "127.0.0.1");
    settings.put("voicemesh.dataDir", dataDir.toString());
    settings.put("voicemesh.node", node);
    // The bench is one user measuring what a node can carry: per-user quotas would measure themselves.
    settings.put("voicemesh.gateway.limits.connectionsPerUser", 1_000_000);
    settings.put("voicemesh.gateway.limits.sessionsPerUser", 1_000_000);
    settings.put("voicemesh.stt.userShare", 1.0);
    settings.put("voicemesh.stt.tokenShare", 1.0);
    return settings;
  }

  /** A new session of the token's user, through the REST API; returns its id. */
  static String createSession(io.vertx.core.Vertx vertx, int port, String token) throws Exception {
    io.vertx.core.http.HttpClient http = vertx.createHttpClient();
    try {
      return http.request(new io.vertx.core.http.RequestOptions().setMethod(io.vertx.core.http.HttpMethod.POST)
              .setHost("127.0.0.1").setPort(port).setURI("/api/v1/sessions")
              .putHeader("Authorization", "Bearer " + token).putHeader("Content-Type", "application/json"))
          .compose(request -> request.send("{}"))
          .compose(response -> response.body().map(body -> {
            if (response.statusCode() != 201) {
              throw new IllegalStateException("POST /api/v1/sessions: " + response.statusCode() + " " + body);
            }
            return body.toJsonObject().getString("sessionId");
          }))
          .await(30, TimeUnit.SECONDS);
    } finally {
      http.close();
    }
  }

  static Mesh startPassThroughMesh(Path dataDir) throws java.util.concurrent.TimeoutException {
    Map<String, Object> settings = meshSettings(dataDir, "bench-passthrough");
    settings.put("voicemesh.stt.engine", "passthrough");
    settings.put("voicemesh.stt.capacity", 1_000_000);
    settings.put("voicemesh.gateway.limits.textMessagesPerSecond", 1_000);
    return Mesh.start(MeshConfig.load(null, settings)).await(3, TimeUnit.MINUTES);
  }
}
