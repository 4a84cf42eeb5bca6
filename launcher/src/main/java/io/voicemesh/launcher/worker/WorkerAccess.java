package io.voicemesh.launcher.worker;

import io.vertx.core.json.JsonObject;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Who may reach a speech worker and how: the shared secret every call must carry
 * ({@code authToken}, empty: none), TLS from a PEM certificate chain and key (empty: plaintext),
 * and {@code insecure}, the explicit consent to serve a non-loopback address without a token.
 */
public record WorkerAccess(String authToken, String tlsCertFile, String tlsKeyFile, boolean insecure) {
  /** Long enough that guessing is hopeless; {@code openssl rand -hex 32} gives 64 characters. */
  static final int MIN_TOKEN_CHARS = 16;

  public WorkerAccess {
    authToken = authToken == null ? "" : authToken;
    tlsCertFile = tlsCertFile == null ? "" : tlsCertFile;
    tlsKeyFile = tlsKeyFile == null ? "" : tlsKeyFile;
    if (!authToken.isEmpty() && (authToken.length() < MIN_TOKEN_CHARS || authToken.chars().anyMatch(c -> c < 0x21 || c > 0x7e))) {
      throw new IllegalArgumentException("worker.authToken: at least " + MIN_TOKEN_CHARS
          + " printable ASCII characters without spaces (e.g. openssl rand -hex 32)");
    }
    if (tlsCertFile.isEmpty() != tlsKeyFile.isEmpty()) {
      throw new IllegalArgumentException("worker.tls: give both the certificate (--tls-cert) and its key (--tls-key), or neither");
    }
    for (String file : new String[] {tlsCertFile, tlsKeyFile}) {
      if (!file.isEmpty() && !Files.isReadable(Path.of(file))) {
        throw new IllegalArgumentException("worker.tls: cannot read " + file);
      }
    }
  }

  /** From {@code voicemesh.worker}: {@code authToken}, {@code tls.certFile}, {@code tls.keyFile}, {@code insecure}. */
  public static WorkerAccess from(JsonObject worker) {
    JsonObject tls = worker.getJsonObject("tls", new JsonObject());
    return new WorkerAccess(worker.getString("authToken", ""), tls.getString("certFile", ""), tls.getString("keyFile", ""),
        worker.getBoolean("insecure", false));
  }

  public boolean tls() {
    return !tlsCertFile.isEmpty();
  }

  public boolean authenticates() {
    return !authToken.isEmpty();
  }

  /**
   * Refuses {@code host} when it is reachable from other machines and nothing guards it: without a
   * token anyone who can reach the port could use the engines (and read health details), so that
   * takes an explicit {@code insecure}.
   */
  void checkExposure(String host) {
    if (!isLoopback(host) && !authenticates() && !insecure) {
      throw new IllegalArgumentException("refusing to listen on " + host + ", which is not a loopback address, "
          + "without a token: set --auth-token (or VOICEMESH_WORKER_TOKEN), or --insecure to serve anyone who can reach it");
    }
  }

  static boolean isLoopback(String host) {
    try {
      return InetAddress.getByName(host).isLoopbackAddress();
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("worker.host: unknown host " + host);
    }
  }

  @Override
  public String toString() {
    return (tls() ? "TLS" : "plaintext") + (authenticates() ? ", token required" : ", no token") + (insecure ? " (insecure)" : "");
  }
}
