package io.voicemesh.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.voicemesh.api.ErrorCode;
import io.voicemesh.api.MeshException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.time.Instant;
import java.util.Base64;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The two key setups of {@link JwtTokens}, with real vertx-auth-jwt and real RSA keys. */
@DisplayName("JWT keys")
class JwtTokensTest {
  private static Vertx vertx;

  @BeforeAll
  static void start() {
    vertx = Vertx.vertx();
  }

  @AfterAll
  static void stop() throws Exception {
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  @Test
  @DisplayName("RS256: the private key signs, the public key alone verifies and cannot sign")
  void rs256() throws Exception {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
    generator.initialize(2048);
    KeyPair keys = generator.generateKeyPair();
    String publicPem = pem("PUBLIC KEY", keys.getPublic().getEncoded());
    String privatePem = pem("PRIVATE KEY", keys.getPrivate().getEncoded());
    JwtTokens signer = JwtTokens.from(vertx, new JsonObject().put("publicKey", publicPem).put("privateKey", privatePem));
    JwtTokens verifier = JwtTokens.from(vertx, new JsonObject().put("publicKey", publicPem));
    assertTrue(signer.canSign());
    assertFalse(verifier.canSign());

    String token = signer.mint("ada", "s-1", Instant.now().plusSeconds(60)).token();
    assertTrue(new String(Base64.getUrlDecoder().decode(token.split("\\.")[0])).contains("RS256"));
    Caller caller = verifier.verify(token).await(10, TimeUnit.SECONDS);
    assertEquals("ada", caller.user());
    assertEquals("s-1", caller.sessionScope());
    assertEquals(ErrorCode.INTERNAL, assertThrows(MeshException.class,
        () -> verifier.mint("ada", null, Instant.now().plusSeconds(60))).code());

    // A token signed with an HS256 secret, or by another RSA key, is not one of ours.
    String hs = JwtTokens.from(vertx, new JsonObject().put("secret", "x".repeat(40)))
        .mint("ada", null, Instant.now().plusSeconds(60)).token();
    assertEquals(ErrorCode.UNAUTHORIZED, refusal(verifier, hs));
    KeyPair other = generator.generateKeyPair();
    String foreign = JwtTokens.from(vertx, new JsonObject().put("publicKey", pem("PUBLIC KEY", other.getPublic().getEncoded()))
        .put("privateKey", pem("PRIVATE KEY", other.getPrivate().getEncoded())))
        .mint("ada", null, Instant.now().plusSeconds(60)).token();
    assertEquals(ErrorCode.UNAUTHORIZED, refusal(verifier, foreign));
    assertEquals(ErrorCode.UNAUTHORIZED, refusal(verifier,
        signer.mint("ada", null, Instant.now().minusSeconds(60)).token()));
  }

  @Test
  @DisplayName("HS256: a short secret is refused at start; a user token has no session scope")
  void hs256() throws Exception {
    assertThrows(IllegalArgumentException.class, () -> JwtTokens.from(vertx, new JsonObject().put("secret", "short")));
    assertThrows(IllegalArgumentException.class, () -> JwtTokens.from(vertx, new JsonObject()));
    JwtTokens tokens = JwtTokens.from(vertx, new JsonObject().put("secret", "s".repeat(32)));
    Caller caller = tokens.verify(tokens.mint("bob", null, Instant.now().plusSeconds(60)).token())
        .await(10, TimeUnit.SECONDS);
    assertEquals("bob", caller.user());
    assertNull(caller.sessionScope());
    assertEquals(ErrorCode.UNAUTHORIZED, refusal(tokens, null));
    assertEquals(ErrorCode.UNAUTHORIZED, refusal(tokens, "a.b.c"));
  }

  @Test
  @DisplayName("well-signed tokens with string time claims or beyond auth.maxTokenLifetimeSeconds are 401 with our own words")
  void claimTypesAndLifetime() throws Exception {
    String secret = "s".repeat(32);
    JwtTokens tokens = JwtTokens.from(vertx, new JsonObject().put("secret", secret).put("maxTokenLifetimeSeconds", 3600));
    io.vertx.ext.auth.jwt.JWTAuth raw = io.vertx.ext.auth.jwt.JWTAuth.create(vertx, new io.vertx.ext.auth.jwt.JWTAuthOptions()
        .addPubSecKey(new io.vertx.ext.auth.PubSecKeyOptions().setAlgorithm("HS256").setBuffer(secret)));
    io.vertx.ext.auth.JWTOptions plain = new io.vertx.ext.auth.JWTOptions().setNoTimestamp(true);
    long soon = Instant.now().plusSeconds(600).getEpochSecond();
    for (JsonObject claims : new JsonObject[] {
        new JsonObject().put("sub", "ada").put("exp", String.valueOf(soon)),
        new JsonObject().put("sub", "ada").put("exp", soon).put("nbf", "0"),
        new JsonObject().put("sub", "ada").put("exp", soon).put("iat", "now"),
        new JsonObject().put("sub", "ada").put("exp", java.math.BigInteger.TEN.pow(30)),
        new JsonObject().put("sub", "ada").put("exp", Instant.now().plusSeconds(7200).getEpochSecond()),
        new JsonObject().put("sub", "ada\u0000").put("exp", soon),
        new JsonObject().put("sub", "ada").put("exp", soon).put("sid", 5)}) {
      MeshException refused = assertThrows(MeshException.class,
          () -> tokens.verify(raw.generateToken(claims, plain)).await(10, TimeUnit.SECONDS), claims.encode());
      assertEquals(ErrorCode.UNAUTHORIZED, refused.code(), claims.encode());
      assertTrue(refused.getMessage().startsWith("invalid token") && !refused.getMessage().contains("Exception")
          && !refused.getMessage().contains("java."), refused.getMessage());
    }
    assertEquals("ada", tokens.verify(raw.generateToken(new JsonObject().put("sub", "ada").put("exp", soon), plain))
        .await(10, TimeUnit.SECONDS).user());
    // Minting what would be refused fails at once.
    assertThrows(IllegalArgumentException.class, () -> tokens.mint("ada", null, Instant.now().plusSeconds(7200)));
    assertThrows(IllegalArgumentException.class, () -> JwtTokens.from(vertx, new JsonObject().put("secret", secret)
        .put("maxTokenLifetimeSeconds", 0)));
  }

  @Test
  @DisplayName("roles: an admin token is admin unless scoped to a session; roles that are not an array of names are 401")
  void roles() throws Exception {
    String secret = "s".repeat(32);
    JwtTokens tokens = JwtTokens.from(vertx, new JsonObject().put("secret", secret));
    Caller admin = tokens.verify(tokens.mint("ops", null, Instant.now().plusSeconds(60), java.util.List.of("admin"))
        .token()).await(10, TimeUnit.SECONDS);
    assertEquals(java.util.Set.of("admin"), admin.roles());
    assertTrue(admin.admin());
    Caller scoped = tokens.verify(tokens.mint("ops", "s-1", Instant.now().plusSeconds(60), java.util.List.of("admin"))
        .token()).await(10, TimeUnit.SECONDS);
    assertFalse(scoped.admin(), "a session-scoped token stays scoped, admin or not");
    Caller user = tokens.verify(tokens.mint("bob", null, Instant.now().plusSeconds(60)).token()).await(10, TimeUnit.SECONDS);
    assertTrue(user.roles().isEmpty());
    assertFalse(user.admin());
    io.vertx.ext.auth.jwt.JWTAuth raw = io.vertx.ext.auth.jwt.JWTAuth.create(vertx, new io.vertx.ext.auth.jwt.JWTAuthOptions()
        .addPubSecKey(new io.vertx.ext.auth.PubSecKeyOptions().setAlgorithm("HS256").setBuffer(secret)));
    long soon = Instant.now().plusSeconds(600).getEpochSecond();
    for (Object roles : new Object[] {"admin", new io.vertx.core.json.JsonArray().add(1), new JsonObject().put("admin", true)}) {
      String token = raw.generateToken(new JsonObject().put("sub", "ops").put("exp", soon).put("roles", roles),
          new io.vertx.ext.auth.JWTOptions().setNoTimestamp(true));
      assertEquals(ErrorCode.UNAUTHORIZED, refusal(tokens, token), String.valueOf(roles));
    }
  }

  private static ErrorCode refusal(JwtTokens tokens, String token) {
    return assertThrows(MeshException.class, () -> tokens.verify(token).await(10, TimeUnit.SECONDS)).code();
  }

  private static String pem(String type, byte[] der) {
    return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(der)
        + "\n-----END " + type + "-----\n";
  }
}
