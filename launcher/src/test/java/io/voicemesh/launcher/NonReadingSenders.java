package io.voicemesh.launcher;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.json.JsonObject;
import io.voicemesh.api.audio.Pcm16;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * Hostile clients: WebSocket connections that stream speech at real time and never read what the
 * server sends (each socket is paused at once, so once its small inbound buffer is full the TCP
 * window closes). They run on a Vert.x of their own, so they load the server, not the test's clients.
 */
final class NonReadingSenders implements AutoCloseable {
  private static final int FRAME_MS = 20;

  /** An upgrade the server refused: its HTTP status and JSON body. */
  record Refused(int status, JsonObject body) {
  }

  private final Vertx vertx = Vertx.vertx();
  /** Held until {@link #close}: Vert.x closes an unreferenced client, with its connections, on GC. */
  private final List<WebSocketClient> clients = new CopyOnWriteArrayList<>();
  private final List<WebSocket> accepted = new CopyOnWriteArrayList<>();
  private final List<Refused> refused = new CopyOnWriteArrayList<>();
  private final List<Throwable> failed = new CopyOnWriteArrayList<>();

  /** Opens {@code count} connections at once with this query; returns when each was accepted or refused. */
  NonReadingSenders connect(int port, String query, int count) throws Exception {
    WebSocketClient client = vertx.createWebSocketClient();
    clients.add(client);
    List<Future<Void>> attempts = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      attempts.add(client.connect(port, "127.0.0.1", "/v1/voice?" + query)
          .<Void>map(socket -> {
            socket.pause(); // never read
            accepted.add(socket);
            return null;
          })
          .recover(e -> {
            if (e instanceof UpgradeRejectedException rejected) {
              refused.add(new Refused(rejected.getStatus(),
                  rejected.getBody() == null ? new JsonObject() : rejected.getBody().toJsonObject()));
            } else {
              failed.add(e);
            }
            return Future.succeededFuture();
          }));
    }
    Future.join(attempts).await(120, TimeUnit.SECONDS);
    return this;
  }

  /** Streams {@code pcm} in a loop, 20 ms frames at real time, into every accepted connection. */
  void speakInALoop(byte[] pcm) {
    int frameBytes = Pcm16.bytesFor(Pcm16.DEFAULT_RATE_HZ, FRAME_MS);
    int frames = pcm.length / frameBytes;
    long start = System.nanoTime();
    long[] sent = {0};
    vertx.setPeriodic(FRAME_MS, id -> {
      long due = (System.nanoTime() - start) / TimeUnit.MILLISECONDS.toNanos(FRAME_MS);
      while (sent[0] < due) {
        int at = (int) (sent[0]++ % frames) * frameBytes;
        byte[] frame = java.util.Arrays.copyOfRange(pcm, at, at + frameBytes);
        // A socket the server closed just fails its writes; the others go on.
        accepted.forEach(socket -> socket.writeBinaryMessage(Buffer.buffer(frame)));
      }
    });
  }

  List<WebSocket> accepted() {
    return accepted;
  }

  List<Refused> refused() {
    return refused;
  }

  /** Connects that failed other than by a refused upgrade (none expected). */
  List<Throwable> failed() {
    return failed;
  }

  @Override
  public void close() throws Exception {
    vertx.close().await(30, TimeUnit.SECONDS);
  }
}
