package io.voicemesh.gateway;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
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
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Verifies and mints the mesh's JWTs (vertx-auth-jwt). One of two key setups, from the {@code auth}
 * config:
 * <ul>
 *   <li>HS256: {@code secret}, at least 32 bytes, verifies and signs.</li>
 *   <li>RS256: {@code publicKey} (PEM) verifies; {@code privateKey} (PEM, PKCS#8) signs, when this
 *       node should mint tokens at all.</li>
 * </ul>
 * A valid token names its user in {@code sub} and must expire ({@code exp}); {@code sid} limits it
 * to one session; {@code roles} (an array of names, e.g. {@code ["admin"]}) grants roles. {@code leewaySeconds} tolerates clock skew with whoever minted it.
 */
public final class JwtTokens {
  public static final String ISSUER = "voicemesh";
  private static final int MIN_SECRET_BYTES = 32;

  /** A minted token and when it expires. */
  public record Minted(String token, Instant expiresAt) {
  }

  /** Tokens may live at most this long by default (auth.maxTokenLifetimeSeconds): 31 days. */
  public static final long DEFAULT_MAX_LIFETIME_SECONDS = 31L * 24 * 3600;
  private static final Logger LOG = LoggerFactory.getLogger(JwtTokens.class);

  private final JWTAuth jwt;
  private final String algorithm;
  private final boolean canSign;
  private final long maxLifetimeSeconds;
  private final long leewaySeconds;

  private JwtTokens(JWTAuth jwt, String algorithm, boolean canSign, long maxLifetimeSeconds, long leewaySeconds) {
    this.jwt = jwt;
    this.algorithm = algorithm;
    this.canSign = canSign;
    this.maxLifetimeSeconds = maxLifetimeSeconds;
    this.leewaySeconds = leewaySeconds;
  }

  public static JwtTokens from(Vertx vertx, JsonObject auth) {
    String secret = auth.getString("secret", "");
    String publicKey = auth.getString("publicKey", "");
    String privateKey = auth.getString("privateKey", "");
    int leeway = auth.getInteger("leewaySeconds", 5);
    long maxLifetime = auth.getLong("maxTokenLifetimeSeconds", DEFAULT_MAX_LIFETIME_SECONDS);
    if (maxLifetime < 60 || leeway < 0) {
      throw new IllegalArgumentException("auth.maxTokenLifetimeSeconds must be at least 60 and auth.leewaySeconds not negative");
    }
    JWTAuthOptions options = new JWTAuthOptions()
        .setJWTOptions(new JWTOptions().setLeeway(leeway));
    if (!publicKey.isBlank()) {
      options.addPubSecKey(new PubSecKeyOptions().setAlgorithm("RS256").setBuffer(publicKey));
      if (!privateKey.isBlank()) {
        options.addPubSecKey(new PubSecKeyOptions().setAlgorithm("RS256").setBuffer(privateKey));
      }
      return new JwtTokens(JWTAuth.create(vertx, options), "RS256", !privateKey.isBlank(), maxLifetime, leeway);
    }
    if (secret.getBytes(StandardCharsets.UTF_8).length < MIN_SECRET_BYTES) {
      throw new IllegalArgumentException("auth.secret must be at least " + MIN_SECRET_BYTES
          + " bytes (or set auth.publicKey for RS256)");
    }
    options.addPubSecKey(new PubSecKeyOptions().setAlgorithm("HS256").setBuffer(secret));
    return new JwtTokens(JWTAuth.create(vertx, options), "HS256", true, maxLifetime, leeway);
  }

  /**
   * The caller a token names; fails with {@code unauthorized} for a missing, malformed, forged or
   * expired one, one whose time claims are not numbers, or one that lives longer than
   * {@code auth.maxTokenLifetimeSeconds} from now. The library's own failure text never reaches the
   * caller (it can name Java classes); the refusal says which rule the token broke, where we know it.
   */
  public Future<Caller> verify(String token) {
    if (token == null || token.isBlank()) {
      return Future.failedFuture(new MeshException(ErrorCode.UNAUTHORIZED,
          "a bearer token is required (Authorization: Bearer <jwt>, or ?token= on the WebSocket)"));
    }
    Future<io.vertx.ext.auth.User> verified;
    try {
      // vertx-auth-jwt throws synchronously on some well-signed but ill-typed claims (exp: "soon").
      verified = jwt.authenticate(new TokenCredentials(token));
    } catch (RuntimeException e) {
      verified = Future.failedFuture(e);
    }
    return verified
        .recover(e -> {
          LOG.debug("token refused: {}", e.toString());
          return Future.failedFuture(new MeshException(ErrorCode.UNAUTHORIZED,
              "invalid token: malformed, not signed by this mesh's key, or expired"));
        })
        .map(user -> {
          // vertx-auth-jwt keeps the verified claims in the user's attributes.
          JsonObject claims = user.attributes().getJsonObject("accessToken", user.principal());
          Object subject = claims.getValue("sub");
          if (!(subject instanceof String sub) || sub.isBlank() || sub.length() > 200 || hasControlCharacters(sub)) {
            throw new MeshException(ErrorCode.UNAUTHORIZED, "invalid token: no subject (sub)");
          }
          for (String claim : new String[] {"nbf", "iat"}) {
            if (claims.containsKey(claim) && !(claims.getValue(claim) instanceof Number)) {
              throw new MeshException(ErrorCode.UNAUTHORIZED, "invalid token: " + claim + " must be a number of seconds");
            }
          }
          if (!(claims.getValue("exp") instanceof Number exp)) {
            throw new MeshException(ErrorCode.UNAUTHORIZED, "invalid token: it must expire (exp, a number of seconds)");
          }
          long latest = Instant.now().getEpochSecond() + maxLifetimeSeconds + leewaySeconds;
          if (!(exp.doubleValue() <= latest)) {
            throw new MeshException(ErrorCode.UNAUTHORIZED, "invalid token: it must expire within "
                + maxLifetimeSeconds + " seconds (auth.maxTokenLifetimeSeconds)");
          }
          Object sid = claims.getValue("sid");
          if (sid != null && !(sid instanceof String)) {
            throw new MeshException(ErrorCode.UNAUTHORIZED, "invalid token: sid must be a session id");
          }
          Object roles = claims.getValue("roles");
          if (roles != null && !(roles instanceof JsonArray array
              && array.stream().allMatch(role -> role instanceof String))) {
            throw new MeshException(ErrorCode.UNAUTHORIZED, "invalid token: roles must be an array of names");
          }
          Set<String> granted = roles == null ? Set.of() : ((JsonArray) roles)
              .stream().map(String.class::cast).collect(Collectors.toUnmodifiableSet());
          return Caller.of(sub, (String) sid, token, exp.longValue(), granted);
        });
  }

  private static boolean hasControlCharacters(String text) {
    return text.chars().anyMatch(Character::isISOControl);
  }

  /** The longest a token may live (auth.maxTokenLifetimeSeconds). */
  public long maxLifetimeSeconds() {
    return maxLifetimeSeconds;
  }

  /** Whether this node holds a signing key. */
  public boolean canSign() {
    return canSign;
  }

  /** A token for {@code user}, limited to {@code sessionId} unless it is null, valid until {@code expiresAt}. */
  public Minted mint(String user, String sessionId, Instant expiresAt) {
    return mint(user, sessionId, expiresAt, List.of());
  }

  /** As {@link #mint(String, String, Instant)}, granting {@code roles} (the {@code roles} claim) when not empty. */
  public Minted mint(String user, String sessionId, Instant expiresAt, List<String> roles) {
    if (!canSign) {
      throw new MeshException(ErrorCode.INTERNAL, "this node verifies tokens but has no private key to mint them");
    }
    if (expiresAt.getEpochSecond() > Instant.now().getEpochSecond() + maxLifetimeSeconds) {
      // The mesh would refuse it: say so now rather than hand out a token that never works.
      throw new IllegalArgumentException("a token may live at most " + maxLifetimeSeconds
          + " seconds (auth.maxTokenLifetimeSeconds)");
    }
    JsonObject claims = new JsonObject().put("sub", user).put("iss", ISSUER)
        .put("iat", Instant.now().getEpochSecond()).put("exp", expiresAt.getEpochSecond());
    if (sessionId != null) {
      claims.put("sid", sessionId);
    }
    if (!roles.isEmpty()) {
      claims.put("roles", new JsonArray(roles));
    }
    String token = jwt.generateToken(claims, new JWTOptions().setAlgorithm(algorithm).setNoTimestamp(true));
    return new Minted(token, Instant.ofEpochSecond(expiresAt.getEpochSecond()));
  }
}
