package io.voicemesh.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import io.voicemesh.gateway.JwtTokens;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** 401, 403 and 404 on every REST route and on the WebSocket upgrade. */
@DisplayName("Authentication and authorization")
@Timeout(180)
class AuthMatrixTest {
  @RegisterExtension
  static final TestMesh mesh = TestMesh.withDefaults();
  private static final String ADA = TestMesh.uniqueUser("ada");
  private static final String BOB = TestMesh.uniqueUser("bob");
  private static Rest rest;
  private static String adaSession;
  private static String bobSession;

  @BeforeAll
  static void sessions() throws Exception {
    rest = new Rest(mesh.port());
    adaSession = rest.post("/api/v1/sessions", mesh.token(ADA), new JsonObject()).json().getString("sessionId");
    bobSession = rest.post("/api/v1/sessions", mesh.token(BOB), new JsonObject()).json().getString("sessionId");
  }

  /** One way of calling a route with a given Authorization header value (null: none). */
  private interface Route {
    int call(String authorization, String sessionId) throws Exception;
  }

  private static Map<String, Route> routes() {
    Map<String, Route> routes = new LinkedHashMap<>();
    routes.put("POST /api/v1/sessions", (auth, id) -> rest.call("POST", "/api/v1/sessions", auth, "{}").status());
    routes.put("GET /api/v1/sessions", (auth, id) -> rest.call("GET", "/api/v1/sessions?active=true", auth, null).status());
    routes.put("GET /api/v1/sessions/{id}", (auth, id) -> rest.call("GET", "/api/v1/sessions/" + id, auth, null).status());
    routes.put("DELETE /api/v1/sessions/{id}", (auth, id) -> rest.call("DELETE", "/api/v1/sessions/" + id, auth, null)
        .status());
    routes.put("WS /v1/voice (Authorization header)", (auth, id) -> upgrade("sessionId=" + id, auth));
    routes.put("WS /v1/voice (?token=)", (auth, id) -> upgrade("sessionId=" + id
        + (auth == null ? "" : "&token=" + auth.substring(auth.indexOf(' ') + 1)), null));
    return routes;
  }

  private static int upgrade(String query, String authorization) throws Exception {
    VoiceClient.Refusal refusal = VoiceClient.refusal(mesh.clientVertx(), mesh.port(), query, authorization);
    String expected = switch (refusal.status()) {
      case 401 -> "unauthorized";
      case 403 -> "forbidden";
      case 404 -> "session_not_found";
      default -> "?";
    };
    assertEquals(expected, refusal.body().getString("code"), refusal.body().encode());
    return refusal.status();
  }

  @TestFactory
  @DisplayName("401 for a missing, malformed, forged, expired, unsigned or never-expiring token")
  Stream<DynamicTest> unauthorized() throws Exception {
    String secret = Files.readString(Path.of("target", "test-data", "jwt-secret"), StandardCharsets.UTF_8).trim();
    JWTAuth sameKey = JWTAuth.create(mesh.clientVertx(), new JWTAuthOptions()
        .addPubSecKey(new PubSecKeyOptions().setAlgorithm("HS256").setBuffer(secret)));
    Map<String, String> bad = new LinkedHashMap<>();
    bad.put("missing", null);
    bad.put("malformed", "Bearer not.a.jwt");
    bad.put("not a bearer", "Basic " + Base64.getEncoder().encodeToString("ada:pw".getBytes(StandardCharsets.UTF_8)));
    bad.put("forged (other key)", "Bearer " + JwtTokens.from(mesh.clientVertx(), new JsonObject()
        .put("secret", "another-secret-that-is-long-enough-0123456789")).mint("ada", null,
        Instant.now().plusSeconds(600)).token());
    bad.put("expired", "Bearer " + mesh.mesh().tokens().mint(ADA, null, Instant.now().minusSeconds(60)).token());
    bad.put("alg none", "Bearer " + unsigned(new JsonObject().put("sub", ADA)
        .put("exp", Instant.now().plusSeconds(600).getEpochSecond())));
    bad.put("no exp", "Bearer " + sameKey.generateToken(new JsonObject().put("sub", ADA), new JWTOptions()));
    bad.put("no sub", "Bearer " + sameKey.generateToken(new JsonObject(), new JWTOptions().setExpiresInSeconds(600)));
    badlyTypedClaims(sameKey, ADA).forEach((why, token) -> bad.put(why, "Bearer " + token));
    List<DynamicTest> tests = new ArrayList<>();
    routes().forEach((name, route) -> bad.forEach((why, header) -> tests.add(dynamicTest(name + ", " + why,
        () -> assertEquals(401, route.call(header, adaSession))))));
    tests.add(dynamicTest("nothing was ended or created by refused calls", () -> {
      assertEquals("active", rest.get("/api/v1/sessions/" + adaSession, mesh.token(ADA)).json().getString("state"));
      Rest.Response listing = rest.get("/api/v1/sessions", mesh.token(ADA));
      assertEquals(1, listing.sessions().size(), listing.text());
    }));
    return tests.stream();
  }

  @TestFactory
  @DisplayName("403 for another user's session or outside a token's session scope; 404 for an unknown session")
  Stream<DynamicTest> forbiddenAndNotFound() {
    String bob = "Bearer " + mesh.token(BOB);
    String scopedToBob = "Bearer " + mesh.mesh().tokens().mint(ADA, bobSession, Instant.now().plusSeconds(600)).token();
    String ada = "Bearer " + mesh.token(ADA);
    List<DynamicTest> tests = new ArrayList<>();
    routes().forEach((name, route) -> {
      boolean perSession = !name.startsWith("POST") && !name.equals("GET /api/v1/sessions");
      if (perSession) {
        tests.add(dynamicTest(name + ", another user's session → 403", () -> assertEquals(403, route.call(bob, adaSession))));
        tests.add(dynamicTest(name + ", unknown session → 404",
            () -> assertEquals(404, route.call(ada, UUID.randomUUID().toString()))));
        tests.add(dynamicTest(name + ", malformed session id → 404", () -> assertEquals(404, route.call(ada, "no-such-id"))));
      }
      // Ada's token limited to Bob's session reaches nothing of Ada's, and no listing or creating either.
      tests.add(dynamicTest(name + ", token scoped to another session → 403",
          () -> assertEquals(403, route.call(scopedToBob, adaSession))));
    });
    tests.add(dynamicTest("Ada's session is still active", () -> assertEquals("active",
        rest.get("/api/v1/sessions/" + adaSession, mesh.token(ADA)).json().getString("state"))));
    return tests.stream();
  }

  /** Correctly signed tokens whose claims are of the wrong type, or that live absurdly long. */
  static Map<String, String> badlyTypedClaims(JWTAuth key, String user) {
    long in10Minutes = Instant.now().plusSeconds(600).getEpochSecond();
    JWTOptions plain = new JWTOptions().setNoTimestamp(true);
    Map<String, String> tokens = new LinkedHashMap<>();
    tokens.put("exp as a string", key.generateToken(new JsonObject().put("sub", user).put("exp", "" + in10Minutes), plain));
    tokens.put("nbf as a string", key.generateToken(new JsonObject().put("sub", user).put("exp", in10Minutes)
        .put("nbf", "yesterday"), plain));
    tokens.put("iat as a string", key.generateToken(new JsonObject().put("sub", user).put("exp", in10Minutes)
        .put("iat", "now"), plain));
    tokens.put("exp = 10^30", key.generateToken(new JsonObject().put("sub", user)
        .put("exp", java.math.BigInteger.TEN.pow(30)), plain));
    tokens.put("exp in 10 years", key.generateToken(new JsonObject().put("sub", user)
        .put("exp", Instant.now().plusSeconds(10L * 365 * 86_400).getEpochSecond()), plain));
    tokens.put("sub as a number", key.generateToken(new JsonObject().put("sub", 42).put("exp", in10Minutes), plain));
    return tokens;
  }

  @TestFactory
  @DisplayName("a well-signed token with string claims or an absurd exp: 401 unauthorized with our own message, never Java's")
  Stream<DynamicTest> badlyTypedClaimsAreCleanRefusals() throws Exception {
    String secret = Files.readString(Path.of("target", "test-data", "jwt-secret"), StandardCharsets.UTF_8).trim();
    JWTAuth sameKey = JWTAuth.create(mesh.clientVertx(), new JWTAuthOptions()
        .addPubSecKey(new PubSecKeyOptions().setAlgorithm("HS256").setBuffer(secret)));
    List<DynamicTest> tests = new ArrayList<>();
    badlyTypedClaims(sameKey, ADA).forEach((why, token) -> {
      tests.add(dynamicTest("REST, " + why, () -> {
        Rest.Response response = rest.get("/api/v1/sessions", token);
        assertEquals(401, response.status(), response.text());
        assertClean(response.json());
      }));
      tests.add(dynamicTest("upgrade, " + why, () -> {
        VoiceClient.Refusal refusal = VoiceClient.refusal(mesh.clientVertx(), mesh.port(), "token=" + token, null);
        assertEquals(401, refusal.status());
        assertClean(refusal.body());
      }));
    });
    return tests.stream();
  }

  private static void assertClean(JsonObject refusal) {
    assertEquals("unauthorized", refusal.getString("code"), refusal.encode());
    String message = refusal.getString("message");
    assertTrue(message.startsWith("invalid token"), message);
    for (String leak : List.of("Exception", "java.", "class ", "cannot be cast", "io.vertx")) {
      assertFalse(message.contains(leak), message);
    }
  }

  private static String unsigned(JsonObject claims) {
    Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
    return b64.encodeToString("{\"alg\":\"none\",\"typ\":\"JWT\"}".getBytes(StandardCharsets.UTF_8)) + "."
        + b64.encodeToString(claims.encode().getBytes(StandardCharsets.UTF_8)) + ".";
  }
}
