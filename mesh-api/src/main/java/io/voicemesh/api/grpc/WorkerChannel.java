package io.voicemesh.api.grpc;

import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.PemTrustOptions;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * How a client reaches speech workers: in plaintext (loopback) or over TLS, trusting the CAs in
 * {@code caFile} (empty: the JDK's), with the worker's host name or IP checked against its
 * certificate; and the shared secret sent with every call as {@code authorization: Bearer <token>}
 * (empty: none).
 */
public record WorkerChannel(String token, boolean tls, String caFile) {
  /** The gRPC metadata (HTTP/2 header) that carries the token. */
  public static final String AUTHORIZATION = "authorization";
  public static final String BEARER = "Bearer ";
  public static final WorkerChannel PLAINTEXT = new WorkerChannel("", false, "");

  public WorkerChannel {
    token = token == null ? "" : token;
    caFile = caFile == null ? "" : caFile;
    if (!caFile.isEmpty() && !Files.isReadable(Path.of(caFile))) {
      throw new IllegalArgumentException("grpc.tls.caFile: cannot read " + caFile);
    }
    if (token.chars().anyMatch(c -> c < 0x21 || c > 0x7e)) {
      throw new IllegalArgumentException("grpc.token: printable ASCII without spaces only");
    }
  }

  /**
   * From a {@code grpc} engine's settings: {@code token}, {@code tls.enabled}, {@code tls.caFile}
   * (setting it turns TLS on).
   */
  public static WorkerChannel from(JsonObject config) {
    JsonObject tls = config.getJsonObject("tls", new JsonObject());
    String caFile = tls.getString("caFile", "");
    return new WorkerChannel(config.getString("token", ""), tls.getBoolean("enabled", false) || !caFile.isEmpty(), caFile);
  }

  /** HTTP/2 client options for this channel: prior knowledge on plaintext, ALPN on TLS. */
  public HttpClientOptions httpOptions(int connectTimeoutMs) {
    HttpClientOptions options = new HttpClientOptions().setProtocolVersion(HttpVersion.HTTP_2)
        .setHttp2ClearTextUpgrade(false).setConnectTimeout(connectTimeoutMs);
    if (tls) {
      options.setSsl(true).setUseAlpn(true).setVerifyHost(true);
      // Said outright rather than left to the client's defaults: the certificate must name the worker.
      options.getSslOptions().setHostnameVerificationAlgorithm("HTTPS");
      if (!caFile.isEmpty()) {
        options.setTrustOptions(new PemTrustOptions().addCertPath(caFile));
      }
    }
    return options;
  }

  /** Adds the token to a call's metadata (nothing without one). */
  public void authorize(MultiMap headers) {
    if (!token.isEmpty()) {
      headers.set(AUTHORIZATION, BEARER + token);
    }
  }

  @Override
  public String toString() {
    return (tls ? "tls" + (caFile.isEmpty() ? "" : " (CA " + caFile + ")") : "plaintext")
        + (token.isEmpty() ? "" : ", with a token");
  }
}
