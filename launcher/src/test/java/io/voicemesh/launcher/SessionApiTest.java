package io.voicemesh.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

@DisplayName("The REST sessions API")
@Timeout(180)
class SessionApiTest {
  private static final Duration TURN = Duration.ofSeconds(30);
  @RegisterExtension
  static final TestMesh mesh = TestMesh.withDefaults();

  @Test
  @DisplayName("start → connect → a voice turn → status → list active → end → status ended → connect refused")
  void lifecycle() throws Exception {
    Rest rest = new Rest(mesh.port());
    String owner = mesh.token(TestMesh.uniqueUser("ada"));
    JsonObject metadata = new JsonObject().put("crm", new JsonObject().put("ticket", 4711)).put("lang", "en");
    Rest.Response created = rest.post("/api/v1/sessions", owner, new JsonObject().put("agent", "default")
        .put("metadata", metadata));
    assertEquals(201, created.status(), created.text());
    JsonObject session = created.json();
    String id = session.getString("sessionId");
    assertEquals("default", session.getString("agent"));
    assertTrue(session.getString("wsUrl").startsWith("ws://127.0.0.1:" + mesh.port() + "/v1/voice?sessionId=" + id),
        session.encode());
    assertTrue(Instant.parse(session.getString("expiresAt")).isAfter(Instant.now().plusSeconds(3000)));

    // The session token connects to that session (and only that one).
    String query = session.getString("wsUrl").substring(session.getString("wsUrl").indexOf('?') + 1);
    try (VoiceClient client = mesh.connect(query + "&token=" + session.getString("token"))) {
      assertEquals(id, client.sessionId());
      client.speakRealtime(Speech.say("what is nine times eight"), 1200);
      JsonObject completed = client.await("agent_completed", TURN);
      assertNull(completed.getValue("error"), completed.encode());
      assertTrue(client.await("agent_response", TURN).getString("text").contains("72"));

      JsonObject status = rest.get("/api/v1/sessions/" + id, owner).json();
      assertEquals("active", status.getString("state"));
      assertEquals(1, status.getInteger("turns"));
      assertEquals(metadata, status.getJsonObject("metadata"));
      assertEquals("default", status.getString("agent"));
      JsonArray participants = status.getJsonArray("participants");
      assertEquals(1, participants.size(), status.encode());
      assertEquals("speaker", participants.getJsonObject(0).getString("role"));
      assertTrue(status.getLong("lastSeq") > 0, status.encode());
      assertNotNull(Instant.parse(status.getString("createdAt")));
      assertNull(status.getValue("endedAt"));

      assertTrue(ids(rest.get("/api/v1/sessions?active=true", owner)).contains(id));
      assertFalse(ids(rest.get("/api/v1/sessions?active=true", mesh.token(TestMesh.uniqueUser("bob")))).contains(id),
          "another user's listing does not show it");

      VoiceClient listener = VoiceClient.connect(mesh.clientVertx(), mesh.port(),
          "sessionId=" + id + "&role=listener&token=" + owner);
      listener.await("session.ready", TURN);
      Rest.Response ended = rest.delete("/api/v1/sessions/" + id, owner);
      assertEquals(200, ended.status(), ended.text());
      assertEquals("ended", ended.json().getString("state"));
      // The live connection is told, in sequence, and closed.
      JsonObject endedEvent = client.await("session.ended", TURN);
      assertEquals(client.sessionEvents().size(), endedEvent.getLong("seq"), "session.ended continues the sequence");
      assertEquals((short) 1000, client.closed().get(10, TimeUnit.SECONDS));
      assertEquals(endedEvent.getLong("seq"), listener.await("session.ended", TURN).getLong("seq"));
      assertEquals((short) 1000, listener.closed().get(10, TimeUnit.SECONDS));
    }

    JsonObject after = rest.get("/api/v1/sessions/" + id, owner).json();
    assertEquals("ended", after.getString("state"));
    assertNotNull(Instant.parse(after.getString("endedAt")));
    assertFalse(ids(rest.get("/api/v1/sessions?active=true", owner)).contains(id));
    assertTrue(ids(rest.get("/api/v1/sessions", owner)).contains(id), "without active=true ended sessions are listed");
    VoiceClient.Refusal refused = VoiceClient.refusal(mesh.clientVertx(), mesh.port(),
        "sessionId=" + id + "&token=" + owner, null);
    assertEquals(410, refused.status());
    assertEquals("session_ended", refused.body().getString("code"));
    assertEquals(1L, ((Number) mesh.query("SELECT count(*) AS n FROM session_events WHERE session_id = $1::uuid "
        + "AND type = 'session.ended'", id).get(0).get("n")).longValue());
  }

  @Test
  @DisplayName("every user's live sessions for an admin token (all=true), 403 for anyone else")
  void adminListsEveryUsersSessions() throws Exception {
    Rest rest = new Rest(mesh.port());
    String ada = TestMesh.uniqueUser("ada");
    String bob = TestMesh.uniqueUser("bob");
    String adaSession = rest.post("/api/v1/sessions", mesh.token(ada), new JsonObject()).json().getString("sessionId");
    String bobSession = rest.post("/api/v1/sessions", mesh.token(bob), new JsonObject()).json().getString("sessionId");
    String admin = mesh.mesh().tokens().mint(TestMesh.uniqueUser("ops"), null, Instant.now().plusSeconds(600),
        java.util.List.of("admin")).token();

    JsonArray all = rest.get("/api/v1/sessions?active=true&all=true&limit=100", admin).json().getJsonArray("sessions");
    java.util.Map<String, String> users = new java.util.HashMap<>();
    all.forEach(s -> users.put(((JsonObject) s).getString("sessionId"), ((JsonObject) s).getString("user")));
    assertEquals(ada, users.get(adaSession), all.encode());
    assertEquals(bob, users.get(bobSession), all.encode());

    Rest.Response refused = rest.get("/api/v1/sessions?all=true", mesh.token(ada));
    assertEquals(403, refused.status(), refused.text());
    assertEquals("forbidden", refused.json().getString("code"), refused.text());
    // Without all=true a user still sees only their own.
    JsonArray own = rest.get("/api/v1/sessions?active=true", mesh.token(ada)).json().getJsonArray("sessions");
    assertEquals(1, own.size(), own.encode());
    assertEquals(adaSession, own.getJsonObject(0).getString("sessionId"));
  }

  @Test
  @DisplayName("requests are validated against the OpenAPI document it serves")
  void validatedAgainstTheContract() throws Exception {
    Rest rest = new Rest(mesh.port());
    String token = mesh.token(TestMesh.uniqueUser("val"));
    Rest.Response contract = rest.call("GET", "/api/openapi.json", null, null);
    assertEquals(200, contract.status());
    JsonObject paths = contract.json().getJsonObject("paths");
    assertEquals(List.of("createSession", "listSessions"), List.of(
        paths.getJsonObject("/api/v1/sessions").getJsonObject("post").getString("operationId"),
        paths.getJsonObject("/api/v1/sessions").getJsonObject("get").getString("operationId")));

    for (String bad : List.of("{\"agent\": 5}", "{\"agent\": \"has space\"}", "{\"bogus\": 1}",
        "{\"metadata\": [1, 2]}", "[]", "{not json")) {
      Rest.Response response = rest.call("POST", "/api/v1/sessions", "Bearer " + token, bad);
      assertEquals(400, response.status(), bad + " → " + response.text());
      assertEquals("bad_request", response.json().getString("code"), response.text());
      assertFalse(response.json().getString("message").isBlank());
    }
    for (String query : List.of("limit=0", "limit=101", "limit=many", "active=perhaps")) {
      Rest.Response response = rest.get("/api/v1/sessions?" + query, token);
      assertEquals(400, response.status(), query + " → " + response.text());
      assertEquals("bad_request", response.json().getString("code"));
    }
    Rest.Response huge = rest.call("POST", "/api/v1/sessions", "Bearer " + token,
        new JsonObject().put("metadata", new JsonObject().put("blob", "x".repeat(100_000))).encode());
    assertEquals(413, huge.status(), huge.text());
    Rest.Response bigMetadata = rest.post("/api/v1/sessions", token,
        new JsonObject().put("metadata", new JsonObject().put("blob", "x".repeat(20_000))));
    assertEquals(400, bigMetadata.status(), "metadata over 16 KiB: " + bigMetadata.text());
    Rest.Response unknownRoute = rest.get("/api/v1/nothing", token);
    assertEquals(404, unknownRoute.status());
    assertEquals("not_found", unknownRoute.json().getString("code"));
    Rest.Response listing = rest.get("/api/v1/sessions", token);
    assertEquals(0, listing.sessions().size(), "nothing was created by bad requests: " + listing.text());

    Rest.Response plain = rest.post("/api/v1/sessions", token, new JsonObject());
    assertEquals(201, plain.status(), "an empty body creates a session with the default agent");
    assertEquals("default", plain.json().getString("agent"));
  }

  private static List<String> ids(Rest.Response listing) {
    assertEquals(200, listing.status(), listing.text());
    return listing.sessions().stream().map(s -> ((JsonObject) s).getString("sessionId")).toList();
  }
}
