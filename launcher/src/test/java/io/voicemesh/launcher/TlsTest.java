package io.voicemesh.launcher;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The gateway serving HTTPS and WSS on its one port with the certificate {@code --tls-self-signed}
 * makes, reached by real TLS clients that were told to trust it: Vert.x's WebSocket client (a
 * voice turn), the JDK's HttpClient (REST, the page), Node's fetch and the official event-bus
 * bridge client in Node (SockJS over HTTPS).
 */
@DisplayName("TLS on the gateway")
@Timeout(180)
class TlsTest {
  private static final Path DATA = Path.of("target", "tls-test-data");
  private static final Duration WAIT = Duration.ofSeconds(30);

  @RegisterExtension
  static final TestMesh mesh = TestMesh.with(() -> Map.of("voicemesh.dataDir", DATA.toString(),
      "voicemesh.gateway.tls.selfSigned", true));

  @Test
  @DisplayName("a spoken turn over WSS: session.ready, the answer and its audio")
  void voiceTurnOverWss() throws Exception {
    try (VoiceClient client = mesh.connect("")) {
      client.sessionId();
      client.speak(Speech.say("what time is it"), 1_000, 3).await(20, TimeUnit.SECONDS);
      JsonObject completed = client.await("agent_completed", WAIT);
      assertFalse(completed.getBoolean("interrupted"), completed.encode());
      assertTrue(client.audio().length > 0, "agent audio over WSS");
    }
  }

  @Test
  @DisplayName("REST and the page over HTTPS from the JDK's client, by name and by address")
  void restAndPagesOverHttps() throws Exception {
    HttpClient https = HttpClient.newBuilder().sslContext(trusting(certificate())).connectTimeout(WAIT).build();
    for (String host : List.of("localhost", "127.0.0.1")) {
      HttpResponse<String> live = https.send(request("https://" + host + ":" + mesh.port() + "/health/live"),
          HttpResponse.BodyHandlers.ofString());
      assertEquals(200, live.statusCode(), host + ": " + live.body());
      HttpResponse<String> sessions = https.send(HttpRequest.newBuilder(URI.create("https://" + host + ":" + mesh.port()
              + "/api/v1/sessions?active=true")).header("Authorization", "Bearer " + mesh.token(TestMesh.USER))
          .timeout(WAIT).build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(200, sessions.statusCode(), sessions.body());
    }
    HttpResponse<String> page = https.send(request("https://localhost:" + mesh.port() + "/"),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(200, page.statusCode());
    assertTrue(page.body().contains("<html"), "the talk page");
    assertEquals("https://localhost:" + mesh.port() + "/", mesh.mesh().baseUrl());
  }

  @Test
  @DisplayName("no plain HTTP on the port, and a client that does not trust the certificate is refused")
  void onlyTlsAndOnlyWhenTrusted() throws Exception {
    HttpClient plain = HttpClient.newBuilder().connectTimeout(WAIT).build();
    assertThrows(IOException.class, () -> plain.send(request("http://127.0.0.1:" + mesh.port() + "/health/live"),
        HttpResponse.BodyHandlers.ofString()), "plain HTTP is not served");
    HttpClient defaultTrust = HttpClient.newBuilder().connectTimeout(WAIT).build();
    assertThrows(SSLHandshakeException.class, () -> defaultTrust.send(
        request("https://127.0.0.1:" + mesh.port() + "/health/live"), HttpResponse.BodyHandlers.ofString()));
  }

  @Test
  @DisplayName("Node trusts the printed certificate (NODE_EXTRA_CA_CERTS): fetch and the official bridge client over HTTPS")
  void nodeClients() throws Exception {
    Path cert = mesh.mesh().tlsCertificate().toAbsolutePath();
    ProcessBuilder withCa = new ProcessBuilder("node", "-e", "fetch(process.argv[1]).then(r => r.text().then(t => "
        + "{ console.log(r.status + ' ' + t); process.exit(0); }), e => { console.log('failed ' + e.cause); process.exit(1); })",
        "https://127.0.0.1:" + mesh.port() + "/health/live")
        .redirectErrorStream(true);
    withCa.environment().put("NODE_EXTRA_CA_CERTS", cert.toString());
    assertTrue(run(withCa).startsWith("200 "), "Node's fetch over HTTPS");
    Process withoutCa = new ProcessBuilder("node", "-e", "fetch(process.argv[1]).then(r => { console.log(r.status); "
        + "process.exit(0); }, e => { console.log('refused ' + (e.cause && e.cause.code)); process.exit(0); })",
        "https://127.0.0.1:" + mesh.port() + "/health/live").redirectErrorStream(true).start();
    assertTrue(output(withoutCa).startsWith("refused "), "Node without the certificate refuses the connection");

    String admin = mesh.mesh().tokens().mint("tls-admin", null, Instant.now().plusSeconds(600), List.of("admin")).token();
    try (BridgeDriver bridge = BridgeDriver.start(Map.of("NODE_EXTRA_CA_CERTS", cert.toString()))) {
      JsonObject opened = bridge.connect("a", "https://127.0.0.1:" + mesh.port() + "/eventbus?token=" + admin);
      assertEquals("open", opened.getString("event"), "SockJS over HTTPS: " + opened.encode());
      bridge.register("a", "dashboard.nodes", new JsonObject());
      bridge.awaitNth("a", "message", 1, WAIT);
      assertEquals(1, bridge.messages("a", "dashboard.nodes").size(), "a node report over the bridge: "
          + bridge.events("a", "message"));
    }
  }

  @Test
  @DisplayName("the self-signed certificate is made once and reused; it names localhost, 127.0.0.1 and ::1")
  void selfSignedCertificate() throws Exception {
    Path cert = mesh.mesh().tlsCertificate();
    byte[] before = Files.readAllBytes(cert);
    TlsFiles again = TlsFiles.selfSigned(cert.getParent());
    assertArrayEquals(before, Files.readAllBytes(again.cert()), "reused, not made anew");
    X509Certificate x509 = certificate();
    List<String> names = x509.getSubjectAlternativeNames().stream().map(n -> String.valueOf(n.get(1))).toList();
    assertTrue(names.contains("localhost") && names.contains("127.0.0.1")
        && names.stream().anyMatch(n -> n.startsWith("0:0:0:0:0:0:0:1")), "names: " + names);
    assertTrue(x509.getNotAfter().toInstant().isAfter(Instant.now().plus(Duration.ofDays(300))));
    String key = Files.readString(again.key(), StandardCharsets.US_ASCII);
    assertTrue(key.startsWith("-----BEGIN PRIVATE KEY-----"), "PKCS#8 PEM");
    assertEquals(java.util.Set.of(java.nio.file.attribute.PosixFilePermission.OWNER_READ,
        java.nio.file.attribute.PosixFilePermission.OWNER_WRITE), Files.getPosixFilePermissions(again.key()));
  }

  private static HttpRequest request(String url) {
    return HttpRequest.newBuilder(URI.create(url)).timeout(WAIT).build();
  }

  private static X509Certificate certificate() throws Exception {
    try (InputStream in = Files.newInputStream(mesh.mesh().tlsCertificate())) {
      return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
    }
  }

  private static SSLContext trusting(X509Certificate certificate) throws Exception {
    KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
    trust.load(null, null);
    trust.setCertificateEntry("voicemesh", certificate);
    TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    factory.init(trust);
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(null, factory.getTrustManagers(), null);
    return context;
  }

  private static String run(ProcessBuilder builder) throws Exception {
    return output(builder.start());
  }

  /** What the process printed, once it exited (bounded). */
  private static String output(Process process) throws Exception {
    process.getOutputStream().close();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new AssertionError("node did not finish within 30 s");
    }
    return new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
  }
}
