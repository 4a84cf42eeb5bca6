package io.voicemesh.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.DeploymentOptions;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.voicemesh.api.Addresses;
import io.voicemesh.api.Bus;
import io.voicemesh.api.Json;
import io.voicemesh.api.Role;
import io.voicemesh.api.message.RoleStatus;
import io.voicemesh.api.message.SessionInfo;
import io.voicemesh.api.message.SessionOpen;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** A Kafka relay that cannot start must not keep the session role from serving. */
@DisplayName("The session role with a Kafka it cannot reach")
@Timeout(60)
class KafkaRelayStartTest {

  @Test
  @DisplayName("serves sessions at once, and its status says why the relay has not started")
  void unresolvableBootstrapServers() throws Exception {
    try (EmbeddedPostgres postgres = EmbeddedPostgres.builder().start()) {
      Vertx vertx = Vertx.vertx();
      try {
        JsonObject config = new JsonObject()
            .put("postgres", new JsonObject().put("uri", "postgresql://postgres:postgres@127.0.0.1:" + postgres.getPort() + "/postgres"))
            .put("kafka", new JsonObject().put("bootstrapServers", "no-such-broker.invalid:9092"));
        vertx.deployVerticle(new SessionVerticle(), new DeploymentOptions().setConfig(config)).await(30, TimeUnit.SECONDS);
        SessionInfo opened = Bus.request(vertx.eventBus(), Addresses.SESSION_OPEN, new SessionOpen(null, "ada", "default"),
            SessionInfo.class, 5_000).await(10, TimeUnit.SECONDS);
        assertEquals("active", opened.status());
        RoleStatus status = null;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
          status = vertx.eventBus().request(Addresses.nodeHealth(Role.SESSION), null)
              .map(reply -> Json.decode(reply.body(), RoleStatus.class)).await(10, TimeUnit.SECONDS);
          if (status.kafka() != null && status.kafka().lastError() != null) {
            break;
          }
          Thread.sleep(100);
        }
        assertNotNull(status);
        assertEquals("UP", status.health(), "the relay does not make the role DEGRADED");
        assertNotNull(status.kafka(), "the status shows the relay");
        assertTrue(String.valueOf(status.kafka().lastError()).contains("not started"), status.toString());
        assertTrue(status.kafka().shards().isEmpty(), status.toString());
      } finally {
        vertx.close().await(10, TimeUnit.SECONDS);
      }
    }
  }
}
