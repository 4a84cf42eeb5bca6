package io.voicemesh.bench;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import java.util.concurrent.TimeUnit;

/**
 * The baseline of figures 2 and 5: a raw Vert.x WebSocket server on its own Vert.x, one server
 * instance (one event loop, like the gateway), that echoes every binary frame.
 */
final class EchoBaseline implements AutoCloseable {
  private final Vertx vertx;
  private final HttpServer server;

  private EchoBaseline(Vertx vertx, HttpServer server) {
    this.vertx = vertx;
    this.server = server;
  }

  static EchoBaseline start() throws Exception {
    Vertx vertx = Vertx.vertx();
    try {
      HttpServer server = vertx.createHttpServer(new HttpServerOptions().setHost("127.0.0.1").setPort(0))
          .webSocketHandler(socket -> socket.binaryMessageHandler(socket::writeBinaryMessage))
          .listen().await(10, TimeUnit.SECONDS);
      return new EchoBaseline(vertx, server);
    } catch (Exception e) {
      EventBusHop.close(vertx);
      throw e;
    }
  }

  int port() {
    return server.actualPort();
  }

  @Override
  public void close() {
    EventBusHop.close(vertx);
  }
}
