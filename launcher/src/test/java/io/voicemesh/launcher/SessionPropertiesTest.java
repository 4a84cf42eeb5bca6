package io.voicemesh.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Label;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Properties of tokens and sessions, tried hundreds of times each against a real mesh over its
 * REST API (jqwik; it runs its own lifecycle, so the mesh is started by hand).
 */
@Label("Session and token properties")
class SessionPropertiesTest {
  private static final List<String> USERS = List.of("ada", "bob", "cy", "dee", "eve").stream()
      .map(TestMesh::uniqueUser).toList();
  private static final Set<String> SEEN_IDS = ConcurrentHashMap.newKeySet();
  private static final Map<String, Set<String>> CREATED_BY = new ConcurrentHashMap<>();
  private static TestMesh mesh;
  private static Rest rest;

  @BeforeContainer
  static void start() throws Exception {
    mesh = TestMesh.withDefaults();
    mesh.beforeAll(null);
    rest = new Rest(mesh.port());
  }

  @AfterContainer
  static void stop() throws Exception {
    if (mesh != null) {
      mesh.afterAll(null);
    }
  }

  @Property(tries = 300)
  @Label("a minted token is accepted until it expires and refused after, and names its user")
  void tokensValidateAndExpire(@ForAll("users") String user, @ForAll @IntRange(min = 10, max = 2_678_400) int ttl, // up to auth.maxTokenLifetimeSeconds (31 days)
      @ForAll @IntRange(min = 10, max = 100_000_000) int expiredFor) throws Exception {
    Instant now = Instant.now();
    String valid = mesh.mesh().tokens().mint(user, null, now.plusSeconds(ttl)).token();
    assertEquals(200, rest.get("/api/v1/sessions?limit=1", valid).status());
    JsonObject claims = new JsonObject(new String(Base64.getUrlDecoder().decode(valid.split("\\.")[1]),
        StandardCharsets.UTF_8));
    assertEquals(user, claims.getString("sub"));
    assertEquals(now.plusSeconds(ttl).getEpochSecond(), claims.getLong("exp"));
    String expired = mesh.mesh().tokens().mint(user, null, now.minusSeconds(expiredFor)).token();
    Rest.Response refused = rest.get("/api/v1/sessions?limit=1", expired);
    assertEquals(401, refused.status());
    assertEquals("unauthorized", refused.json().getString("code"));
  }

  @Property(tries = 300)
  @Label("every created session gets an id never seen before")
  void sessionIdsAreUnique(@ForAll("users") String user) throws Exception {
    Rest.Response created = rest.post("/api/v1/sessions", mesh.token(user), new JsonObject());
    assertEquals(201, created.status(), created.text());
    assertTrue(SEEN_IDS.add(created.json().getString("sessionId")), "duplicate id " + created.text());
  }

  @Property(tries = 300)
  @Label("metadata comes back exactly as it was given")
  void metadataRoundTrips(@ForAll("metadata") JsonObject metadata) throws Exception {
    String token = mesh.token("meta");
    Rest.Response created = rest.post("/api/v1/sessions", token, new JsonObject().put("metadata", metadata));
    assertEquals(201, created.status(), created.text());
    JsonObject status = rest.get("/api/v1/sessions/" + created.json().getString("sessionId"), token).json();
    assertEquals(metadata, status.getJsonObject("metadata"));
  }

  @Example
  @Label("metadata PostgreSQL cannot store (a NUL character) is refused, not mangled")
  void nulInMetadataIsRefused() throws Exception {
    Rest.Response refused = rest.post("/api/v1/sessions", mesh.token("meta"),
        new JsonObject().put("metadata", new JsonObject().put("note", "a\u0000b")));
    assertEquals(400, refused.status(), refused.text());
    assertEquals("bad_request", refused.json().getString("code"));
  }

  @Property(tries = 200)
  @Label("a user's listing never shows another user's sessions")
  void listingShowsOnlyOwnSessions(@ForAll @Size(min = 1, max = 4) List<@IntRange(min = 0, max = 4) Integer> creators,
      @ForAll boolean activeOnly, @ForAll @IntRange(min = 0, max = 4) int lister) throws Exception {
    for (int creator : creators) {
      String user = USERS.get(creator);
      String id = rest.post("/api/v1/sessions", mesh.token(user), new JsonObject()).json().getString("sessionId");
      CREATED_BY.computeIfAbsent(user, u -> ConcurrentHashMap.newKeySet()).add(id);
    }
    String user = USERS.get(lister);
    JsonArray sessions = rest.get("/api/v1/sessions?limit=100&active=" + activeOnly, mesh.token(user)).sessions();
    Set<String> own = CREATED_BY.getOrDefault(user, Set.of());
    for (Object listed : sessions) {
      String id = ((JsonObject) listed).getString("sessionId");
      assertTrue(own.contains(id), user + " sees " + id + ", which is not theirs");
    }
    assertEquals(Math.min(100, own.size()), sessions.size(), "and sees all of their own (up to the limit)");
  }

  @Provide
  Arbitrary<String> users() {
    return text(1, 60).filter(s -> !s.isBlank() && s.chars().noneMatch(Character::isISOControl));
  }

  @Property(tries = 100)
  @Label("a subject with a control character is refused: user names end up in logs")
  void controlCharactersInSubjectsAreRefused(@ForAll("users") String user, @ForAll @IntRange(min = 0, max = 60) int at,
      @ForAll @IntRange(min = 1, max = 31) int control) throws Exception {
    String named = user.substring(0, Math.min(at, user.length())) + (char) control + user.substring(Math.min(at, user.length()));
    Rest.Response refused = rest.get("/api/v1/sessions?limit=1",
        mesh.mesh().tokens().mint(named, null, Instant.now().plusSeconds(600)).token());
    assertEquals(401, refused.status());
    assertEquals("unauthorized", refused.json().getString("code"));
  }

  @Provide
  Arbitrary<JsonObject> metadata() {
    return objects(3).filter(m -> m.encode().length() < 8_000);
  }

  private static Arbitrary<JsonObject> objects(int depth) {
    return Arbitraries.maps(text(0, 20), values(depth)).ofMaxSize(5).map(JsonObject::new);
  }

  private static Arbitrary<Object> values(int depth) {
    Arbitrary<Object> scalar = Arbitraries.oneOf(
        text(0, 40).map(s -> (Object) s),
        Arbitraries.integers().map(i -> (Object) i),
        Arbitraries.longs().map(l -> (Object) l),
        // JSON numbers: PostgreSQL has no negative zero, so -0.0 would come back as 0.0.
        Arbitraries.doubles().filter(d -> Double.compare(d, -0.0) != 0).map(d -> (Object) d),
        Arbitraries.of(true, false).map(b -> (Object) b),
        Arbitraries.just(null));
    if (depth == 0) {
      return scalar;
    }
    Arbitrary<Object> array = values(depth - 1).list().ofMaxSize(4).map(list -> (Object) new JsonArray(list));
    Arbitrary<Object> object = objects(depth - 1).map(o -> (Object) o);
    return Arbitraries.frequencyOf(Tuple.of(6, scalar), Tuple.of(1, object), Tuple.of(1, array));
  }

  /** Text of valid Unicode scalar values other than NUL (which PostgreSQL's jsonb cannot hold). */
  private static Arbitrary<String> text(int min, int max) {
    return Arbitraries.strings().withCharRange('\u0001', '\uD7FF').withCharRange('\uE000', '\uFFFD')
        .ofMinLength(min).ofMaxLength(max);
  }
}
