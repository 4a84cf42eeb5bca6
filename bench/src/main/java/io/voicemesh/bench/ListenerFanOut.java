package io.voicemesh.bench;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import io.voicemesh.api.Addresses;
import io.voicemesh.api.message.LoggedEvent;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * Figure 7: one session's events fanned out to many listener WebSockets. A publisher puts session
 * events on {@code session.<id>.events} at a steady rate; every listener connection (through the
 * gateway's SessionFeed and ClientChannel) sends each to its client, which records publish →
 * receive. The baseline is a raw Vert.x WebSocket server whose connections each subscribe to one
 * event-bus address and write what is published there: the fan-out without the mesh.
 */
final class ListenerFanOut {
  /** Latency and completeness of one run. */
  record Result(int listeners, LatencyRecorder.Percentiles latency, double delivered) {
    @Override
    public String toString() {
      return String.format("%d listeners: %s, delivered %.1f%%", listeners, latency, delivered * 100);
    }
  }

  private final Vertx clientVertx;
  private final int listeners;
  private final int eventsPerSecond;
  private final long warmupMs;
  private final long measureMs;

  ListenerFanOut(Vertx clientVertx, int listeners, int eventsPerSecond, long warmupMs, long measureMs) {
    this.clientVertx = clientVertx;
    this.listeners = listeners;
    this.eventsPerSecond = eventsPerSecond;
    this.warmupMs = warmupMs;
    this.measureMs = measureMs;
  }

  /** Listeners of a session on the mesh's gateway; the events are published on the mesh's own bus. */
  Result mesh(Vertx meshVertx, int port, String sessionId, String token) throws Exception {
    String uri = "/v1/voice?role=listener&sessionId=" + sessionId + "&token=" + token;
    return run(meshVertx, Addresses.sessionEvents(sessionId), port, uri, sessionId);
  }

  /** The same fan-out through a bare Vert.x WebSocket server. */
  Result baseline() throws Exception {
    Vertx server = Vertx.vertx();
    try {
      String address = "bench.fanout";
      HttpServer http = server.createHttpServer(new HttpServerOptions().setHost("127.0.0.1").setPort(0))
          .webSocketHandler(socket -> {
            var consumer = server.eventBus().<String>consumer(address, m -> socket.writeTextMessage(m.body()));
            socket.closeHandler(v -> consumer.unregister());
          })
          .listen().await(10, TimeUnit.SECONDS);
      return run(server, address, http.actualPort(), "/", null);
    } finally {
      EventBusHop.close(server);
    }
  }

  private Result run(Vertx publisherVertx, String address, int port, String uri, String sessionId) throws Exception {
    LatencyRecorder latency = new LatencyRecorder();
    AtomicLong received = new AtomicLong();
    AtomicLong published = new AtomicLong();
    // Events from this seq on are measured: each is expected once at every listener.
    AtomicLong firstMeasured = new AtomicLong(Long.MAX_VALUE);
    WebSocketClient client = clientVertx.createWebSocketClient(new WebSocketClientOptions().setMaxConnections(listeners + 1));
    List<WebSocket> sockets = new ArrayList<>();
    try {
      CountDownLatch ready = new CountDownLatch(listeners);
      List<Future<WebSocket>> connecting = new ArrayList<>();
      for (int i = 0; i < listeners; i++) {
        connecting.add(client.connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(port).setURI(uri)
                .setTimeout(30_000))
            .map(socket -> {
              // Handlers first, in the connect callback: the next frame may be session.ready.
              socket.textMessageHandler(text -> {
                JsonObject event = new JsonObject(text);
                if (event.containsKey("sentNanos")) {
                  if (event.getLong("seq") >= firstMeasured.get()) {
                    latency.record(System.nanoTime() - event.getLong("sentNanos"));
                    received.incrementAndGet();
                  }
                } else if ("session.ready".equals(event.getString("type"))) {
                  ready.countDown();
                }
              });
              return socket;
            }));
        if (sessionId == null) {
          ready.countDown(); // the baseline has no session.ready
        }
      }
      for (Future<WebSocket> socket : connecting) {
        sockets.add(socket.await(60, TimeUnit.SECONDS));
      }
      if (!ready.await(60, TimeUnit.SECONDS)) {
        throw new IllegalStateException(ready.getCount() + " listeners got no session.ready");
      }
      // Published as the mesh publishes stored events: the JSON text, seq and type in the headers.
      Function<Long, LoggedEvent> event = n -> new LoggedEvent(n, "bench.tick", new JsonObject().put("type", "bench.tick")
          .put("seq", n).put("sessionId", sessionId).put("ts", System.currentTimeMillis())
          .put("sentNanos", System.nanoTime()).encode());
      long period = Math.max(1, 1000 / eventsPerSecond);
      long timer = publisherVertx.setPeriodic(period,
          t -> {
            LoggedEvent tick = event.apply(published.incrementAndGet());
            publisherVertx.eventBus().publish(address, tick.json(), tick.toDeliveryOptions());
          });
      return measure(latency, received, published, firstMeasured, () -> publisherVertx.cancelTimer(timer),
          (from, to) -> to - from + 1);
    } finally {
      for (WebSocket socket : sockets) {
        socket.close();
      }
      client.close();
    }
  }

  /**
   * The same fan-out through the event-bus bridge: {@code listeners} dashboard connections to the
   * gateway's SockJS bridge (its raw WebSocket transport, {@code /eventbus/websocket}: the same bridge
   * and checks as the official client's SockJS transports) with an admin token, each registered on the
   * session's events and on {@code dashboard.sessions}; one {@code dashboard.sessions} message is
   * published per ten session events. Each client records publish → receive of both.
   */
  Result bridge(Vertx meshVertx, int port, String sessionId, String adminToken) throws Exception {
    String events = Addresses.sessionEvents(sessionId);
    LatencyRecorder latency = new LatencyRecorder();
    AtomicLong received = new AtomicLong();
    AtomicLong published = new AtomicLong();
    AtomicLong firstMeasured = new AtomicLong(Long.MAX_VALUE);
    WebSocketClient client = clientVertx.createWebSocketClient(new WebSocketClientOptions().setMaxConnections(listeners + 1));
    List<WebSocket> sockets = new ArrayList<>();
    long timer = -1;
    try {
      CountDownLatch ready = new CountDownLatch(listeners);
      List<Future<WebSocket>> connecting = new ArrayList<>();
      for (int i = 0; i < listeners; i++) {
        connecting.add(client.connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(port)
                .setURI("/eventbus/websocket").setTimeout(30_000))
            .map(socket -> {
              boolean[] first = {true};
              // Whole messages, text or binary: the raw transport sends the bridge's frames as either.
              socket.handler(data -> {
                JsonObject frame = new JsonObject(data.toString());
                if (!"rec".equals(frame.getString("type"))) {
                  return;
                }
                Object body = frame.getValue("body");
                JsonObject event = body instanceof String json ? new JsonObject(json) : (JsonObject) body;
                if (first[0]) {
                  first[0] = false;
                  ready.countDown();
                }
                if (event.getLong("seq") >= firstMeasured.get()) {
                  latency.record(System.nanoTime() - event.getLong("sentNanos"));
                  received.incrementAndGet();
                }
              });
              // The token as each frame's header (the raw transport's URL is the bridge's own).
              JsonObject headers = new JsonObject().put("token", adminToken);
              socket.writeTextMessage(new JsonObject().put("type", "register").put("address", events)
                  .put("headers", headers).encode());
              socket.writeTextMessage(new JsonObject().put("type", "register").put("address", Addresses.DASHBOARD_SESSIONS)
                  .put("headers", headers).encode());
              return socket;
            }));
      }
      for (Future<WebSocket> socket : connecting) {
        sockets.add(socket.await(60, TimeUnit.SECONDS));
      }
      long period = Math.max(1, 1000 / eventsPerSecond);
      timer = meshVertx.setPeriodic(period, t -> {
        long n = published.incrementAndGet();
        LoggedEvent tick = new LoggedEvent(n, "bench.tick", new JsonObject().put("type", "bench.tick").put("seq", n)
            .put("sessionId", sessionId).put("ts", System.currentTimeMillis()).put("sentNanos", System.nanoTime()).encode());
        meshVertx.eventBus().publish(events, tick.json(), tick.toDeliveryOptions());
        if (n % 10 == 0) {
          meshVertx.eventBus().publish(Addresses.DASHBOARD_SESSIONS, new JsonObject().put("type", "turn.completed")
              .put("sessionId", sessionId).put("seq", n).put("sentNanos", System.nanoTime()));
        }
      });
      if (!ready.await(60, TimeUnit.SECONDS)) {
        throw new IllegalStateException(ready.getCount() + " bridge clients got nothing");
      }
      long publishing = timer;
      return measure(latency, received, published, firstMeasured, () -> meshVertx.cancelTimer(publishing),
          ListenerFanOut::expected);
    } finally {
      if (timer >= 0) {
        meshVertx.cancelTimer(timer);
      }
      for (WebSocket socket : sockets) {
        socket.close();
      }
      client.close();
    }
  }

  /**
   * With publishing under way: warms up, measures for {@code measureMs}, stops publishing, lets the
   * last messages arrive (bounded), and returns the figures. {@code perClient(from, to)}: the
   * messages each client should get for ticks {@code from..to}. The count of published ticks is
   * read again each time: a tick that raced the stop still counts.
   */
  private Result measure(LatencyRecorder latency, AtomicLong received, AtomicLong published, AtomicLong firstMeasured,
      Runnable stopPublishing, java.util.function.LongBinaryOperator perClient) throws InterruptedException {
    TimeUnit.MILLISECONDS.sleep(warmupMs); // warm-up: unmeasured, bounded
    latency.start();
    firstMeasured.set(published.get() + 1);
    TimeUnit.MILLISECONDS.sleep(measureMs); // the measured window, bounded
    stopPublishing.run();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (received.get() < perClient.applyAsLong(firstMeasured.get(), published.get()) * listeners
        && System.nanoTime() < deadline) {
      TimeUnit.MILLISECONDS.sleep(20); // polling interval, bounded by the deadline
    }
    long expected = perClient.applyAsLong(firstMeasured.get(), published.get()) * listeners;
    latency.stop();
    return new Result(listeners, latency.percentiles(), expected == 0 ? 0 : Math.min(1.0, received.get() / (double) expected));
  }

  /** Messages per client for ticks {@code from..to}: each tick's event, and a dashboard message every tenth. */
  private static long expected(long from, long to) {
    return to < from ? 0 : (to - from + 1) + (to / 10 - (from - 1) / 10);
  }
}
