package io.voicemesh.gateway;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.authentication.TokenCredentials;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import io.voicemesh.api.ErrorCode;
import io.voicemesh.api.MeshException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;

/**
 * Verifies and mints the mesh's JWTs (vertx-auth-jwt). One of two key setups, from the {@code auth}
 * config:
 * <ul>
 *   <li>HS256: {@code secret}, at least 32 bytes, verifies and signs.</li>
 *   <li>RS256: {@code publicKey} (PEM) verifies; {@code privateKey} (PEM, PKCS#8) signs, when this
 *       node should mint tokens at all.</li>
 * </ul>
 * A valid token names its user in {@code sub} and must expire ({@code exp}); {@code sid} limits it
 * to one session. {@code leewaySeconds} tolerates clock skew with whoever minted it.
 */
public final class JwtTokens {
  public static final String ISSUER = "voicemesh";
  private static final int MIN_SECRET_BYTES = 32;

  /** A minted token and when it expires. */
  public record Minted(String token, Instant expiresAt) {
  }

  private final JWTAuth jwt;
  private final String algorithm;
  private final boolean canSign;

  private JwtTokens(JWTAuth jwt, String algorithm, boolean canSign) {
    this.jwt = jwt;
    this.algorithm = algorithm;
    this.canSign = canSign;
  }

  public static JwtTokens from(Vertx vertx, JsonObject auth) {
    String secret = auth.getString("secret", "");
    String publicKey = auth.getString("publicKey", "");
    String privateKey = auth.getString("privateKey", "");
    JWTAuthOptions options = new JWTAuthOptions()
        .setJWTOptions(new JWTOptions().setLeeway(auth.getInteger("leewaySeconds", 5)));
    if (!publicKey.isBlank()) {
      options.addPubSecKey(new PubSecKeyOptions().setAlgorithm("RS256").setBuffer(publicKey));
      if (!privateKey.isBlank()) {
        options.addPubSecKey(new PubSecKeyOptions().setAlgorithm("RS256").setBuffer(privateKey));
      }
      return new JwtTokens(JWTAuth.create(vertx, options), "RS256", !privateKey.isBlank());
    }
    if (secret.getBytes(StandardCharsets.UTF_8).length < MIN_SECRET_BYTES) {
      throw new IllegalArgumentException("auth.secret must be at least " + MIN_SECRET_BYTES
          + " bytes (or set auth.publicKey for RS256)");
    }
    options.addPubSecKey(new PubSecKeyOptions().setAlgorithm("HS256").setBuffer(secret));
    return new JwtTokens(JWTAuth.create(vertx, options), "HS256", true);
  }

  /** The caller a token names; fails with {@code unauthorized} for a missing, malformed, forged or expired one. */
  public Future<Caller> verify(String token) {
    if (token == null || token.isBlank()) {
      return Future.failedFuture(new MeshException(ErrorCode.UNAUTHORIZED,
          "a bearer token is required (Authorization: Bearer <jwt>, or ?token= on the WebSocket)"));
    }
    return jwt.authenticate(new TokenCredentials(token))
        .recover(e -> Future.failedFuture(new MeshException(ErrorCode.UNAUTHORIZED, "invalid token: " + e.getMessage())))
        .map(user -> {
          // vertx-auth-jwt keeps the verified claims in the user's attributes.
          JsonObject claims = user.attributes().getJsonObject("accessToken", user.principal());
          String subject = claims.getString("sub");
          if (subject == null || subject.isBlank() || subject.length() > 200) {
            throw new MeshException(ErrorCode.UNAUTHORIZED, "invalid token: no subject (sub)");
          }
          if (!(claims.getValue("exp") instanceof Number)) {
            throw new MeshException(ErrorCode.UNAUTHORIZED, "invalid token: it must expire (exp)");
          }
          return Caller.of(subject, claims.getString("sid"), token, ((Number) claims.getValue("exp")).longValue());
        });
  }

  /** Whether this node holds a signing key. */
  public boolean canSign() {
    return canSign;
  }

  /** A token for {@code user}, limited to {@code sessionId} unless it is null, valid until {@code expiresAt}. */
  public Minted mint(String user, String sessionId, Instant expiresAt) {
    if (!canSign) {
      throw new MeshException(ErrorCode.INTERNAL, "this node verifies tokens but has no private key to mint them");
    }
    JsonObject claims = new JsonObject().put("sub", user).put("iss", ISSUER)
        .put("iat", Instant.now().getEpochSecond()).put("exp", expiresAt.getEpochSecond());
    if (sessionId != null) {
      claims.put("sid", sessionId);
    }
    String token = jwt.generateToken(claims, new JWTOptions().setAlgorithm(algorithm).setNoTimestamp(true));
    return new Minted(token, Instant.ofEpochSecond(expiresAt.getEpochSecond()));
  }
}
