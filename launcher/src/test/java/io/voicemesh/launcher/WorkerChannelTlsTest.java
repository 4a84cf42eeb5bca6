package io.voicemesh.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.grpc.server.GrpcServer;
import io.voicemesh.api.grpc.WorkerChannel;
import io.voicemesh.api.worker.HealthCheckResponse;
import io.voicemesh.api.worker.ServingStatus;
import io.voicemesh.api.worker.SpeechWorkerGrpcService;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The grpc engines' TLS checks that a worker's certificate names the address it is reached at,
 * not only that a trusted CA signed it (the check Netty 4.2.17 fixed, on by our choice here).
 */
@DisplayName("The speech-worker channel over TLS")
class WorkerChannelTlsTest {

  @Test
  @DisplayName("refuses a trusted certificate made for another host, and accepts one that names 127.0.0.1")
  void checksTheHostName() throws Exception {
    Path dir = Path.of("target", "worker-channel-tls");
    TestCertificates.Pem elsewhere = TestCertificates.selfSigned(dir, "elsewhere", "dns:worker.elsewhere.example");
    TestCertificates.Pem loopback = TestCertificates.selfSigned(dir, "loopback", "ip:127.0.0.1");
    Vertx vertx = Vertx.vertx();
    try {
      int wrongPort = serve(vertx, elsewhere);
      try (WorkerClient client = new WorkerClient(vertx, wrongPort, new WorkerChannel("", true, elsewhere.certificate().toString()))) {
        Exception refused = assertThrows(Exception.class, client::health);
        assertTrue(hasCause(refused, SSLHandshakeException.class), "a TLS handshake failure: " + refused);
        assertTrue(causes(refused).contains("No subject alternative names matching IP address 127.0.0.1"),
            "refused for the name, not the signature: " + causes(refused));
      }
      int rightPort = serve(vertx, loopback);
      try (WorkerClient client = new WorkerClient(vertx, rightPort, new WorkerChannel("", true, loopback.certificate().toString()))) {
        assertEquals(ServingStatus.OK, client.health().getStatus(), "the control: the same client with a matching certificate");
      }
    } finally {
      vertx.close().await(10, TimeUnit.SECONDS);
    }
  }

  /** A TLS gRPC server answering HealthCheck with OK, on a free port. */
  private static int serve(Vertx vertx, TestCertificates.Pem pem) throws Exception {
    GrpcServer grpc = GrpcServer.server(vertx);
    grpc.callHandler(SpeechWorkerGrpcService.HealthCheck, call -> call.last().onSuccess(request ->
        call.response().end(HealthCheckResponse.newBuilder().setStatus(ServingStatus.OK).build())));
    HttpServer server = vertx.createHttpServer(new HttpServerOptions().setHost("127.0.0.1").setPort(0).setSsl(true)
            .setUseAlpn(true).setKeyCertOptions(new PemKeyCertOptions().setCertPath(pem.certificate().toString())
                .setKeyPath(pem.key().toString())))
        .requestHandler(grpc);
    return server.listen().await(30, TimeUnit.SECONDS).actualPort();
  }

  private static String causes(Throwable error) {
    StringBuilder all = new StringBuilder();
    for (Throwable t = error; t != null; t = t.getCause()) {
      all.append(t).append(" / ");
    }
    return all.toString();
  }

  private static boolean hasCause(Throwable error, Class<? extends Throwable> type) {
    for (Throwable t = error; t != null; t = t.getCause()) {
      if (type.isInstance(t)) {
        return true;
      }
    }
    return false;
  }
}
