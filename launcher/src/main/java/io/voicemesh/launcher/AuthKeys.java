package io.voicemesh.launcher;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * The JWT keys from {@code voicemesh.auth}, as the gateway's {@code auth} config: an HS256
 * {@code secret}, or RS256 PEM files ({@code publicKeyFile}, {@code privateKeyFile}). With neither
 * — the all-in-one default — a random secret is generated once and kept in {@code dataDir/jwt-secret}
 * (readable by its owner only), so the mesh and the {@code token} command agree on it.
 */
record AuthKeys(JsonObject gatewayAuth, boolean generatedLocally) {
  static final String SECRET_FILE = "jwt-secret";

  static AuthKeys resolve(MeshConfig config) {
    JsonObject auth = config.section("auth");
    JsonObject gateway = new JsonObject()
        .put("leewaySeconds", auth.getInteger("leewaySeconds"))
        .put("sessionTokenTtlSeconds", auth.getLong("sessionTokenTtlSeconds"))
        .put("maxTokenLifetimeSeconds", auth.getLong("maxTokenLifetimeSeconds"));
    String publicKeyFile = auth.getString("publicKeyFile", "");
    if (!publicKeyFile.isBlank()) {
      gateway.put("publicKey", read(Path.of(publicKeyFile)));
      String privateKeyFile = auth.getString("privateKeyFile", "");
      if (!privateKeyFile.isBlank()) {
        gateway.put("privateKey", read(Path.of(privateKeyFile)));
      }
      return new AuthKeys(gateway, false);
    }
    String secret = auth.getString("secret", "");
    if (!secret.isBlank()) {
      return new AuthKeys(gateway.put("secret", secret), false);
    }
    return new AuthKeys(gateway.put("secret", localSecret(config.dataDir().resolve(SECRET_FILE))), true);
  }

  private static String localSecret(Path file) {
    try {
      if (Files.isRegularFile(file)) {
        return Files.readString(file, StandardCharsets.UTF_8).trim();
      }
      Files.createDirectories(file.getParent());
      byte[] random = new byte[48];
      new SecureRandom().nextBytes(random);
      String secret = Base64.getUrlEncoder().withoutPadding().encodeToString(random);
      Path partial = Files.createTempFile(file.getParent(), SECRET_FILE, ".tmp");
      try {
        Files.setPosixFilePermissions(partial, PosixFilePermissions.fromString("rw-------"));
      } catch (UnsupportedOperationException e) {
        // not a POSIX file system: the data folder's own permissions protect it
      }
      Files.writeString(partial, secret, StandardCharsets.UTF_8);
      Files.move(partial, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
      return secret;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read or create the JWT secret " + file, e);
    }
  }

  private static String read(Path pem) {
    try {
      return Files.readString(pem, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the key file " + pem, e);
    }
  }
}
