package io.voicemesh.launcher;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import io.voicemesh.api.audio.Pcm16;
import java.io.ByteArrayOutputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A real WebSocket client of {@code /v1/voice} that records every event and all agent audio; on
 * {@link #close} it checks the turns it saw against the {@link EventOrder} contract.
 */
final class VoiceClient implements AutoCloseable {
  static final int FRAME_MS = 20;
  private static final int RATE = Pcm16.DEFAULT_RATE_HZ;

  private final Vertx vertx;
  /**
   * Held for as long as the socket: Vert.x closes a client that is no longer referenced, with its
   * connections (1000, no reason), whenever the garbage collector gets to it.
   */
  private final WebSocketClient client;
  private final WebSocket socket;
  private final List<JsonObject> events = new ArrayList<>();
  private final ByteArrayOutputStream audio = new ByteArrayOutputStream();
  private final List<Waiter> waiters = new ArrayList<>();
  /** For each agent audio frame: when it arrived (nanoTime) and the audio bytes received by then. */
  private final List<long[]> audioArrivals = new ArrayList<>();
  /** For each audio frame sent by {@link #speak}: the input audio position after it (ms) and when (nanoTime). */
  private final List<long[]> framesSent = new java.util.concurrent.CopyOnWriteArrayList<>();
  private long sentAudioMs;
  private final CompletableFuture<Short> closed = new CompletableFuture<>();
  private volatile String closeReason;

  private record Waiter(Predicate<JsonObject> match, CompletableFuture<JsonObject> result) {
  }

  private VoiceClient(Vertx vertx, WebSocketClient client, WebSocket socket) {
    this.vertx = vertx;
    this.client = client;
    this.socket = socket;
    socket.textMessageHandler(text -> onEvent(new JsonObject(text)));
    socket.binaryMessageHandler(this::onAudio);
    socket.closeHandler(v -> {
      closeReason = socket.closeReason();
      closed.complete(socket.closeStatusCode());
    });
  }

  static VoiceClient connect(Vertx vertx, int port, String query) throws Exception {
    return connect(vertx, port, query, 65_536);
  }

  /** A client whose outgoing messages are fragmented into frames of at most {@code maxFrameBytes}. */
  static VoiceClient connect(Vertx vertx, int port, String query, int maxFrameBytes) throws Exception {
    return connect(vertx, port, query, new WebSocketClientOptions().setMaxFrameSize(maxFrameBytes)
        .setMaxMessageSize(Math.max(maxFrameBytes, 262_144)));
  }

  /** A client with these options (TLS, frame sizes). */
  static VoiceClient connect(Vertx vertx, int port, String query, WebSocketClientOptions options) throws Exception {
    WebSocketClient client = vertx.createWebSocketClient(options);
    // Handlers go on in the connect callback, on the socket's event loop: set later from the test
    // thread, they could miss session.ready.
    return client.connect(port, "127.0.0.1", "/v1/voice" + (query.isEmpty() ? "" : "?" + query))
        .map(socket -> new VoiceClient(vertx, client, socket))
        .await(10, TimeUnit.SECONDS);
  }

  /**
   * Tries an upgrade that should be refused; returns the HTTP status and JSON body of the refusal.
   * {@code authorization} (may be null) goes in the Authorization header.
   */
  static Refusal refusal(Vertx vertx, int port, String query, String authorization) throws Exception {
    WebSocketConnectOptions options = new WebSocketConnectOptions().setHost("127.0.0.1").setPort(port)
        .setURI("/v1/voice" + (query.isEmpty() ? "" : "?" + query));
    if (authorization != null) {
      options.addHeader("Authorization", authorization);
    }
    try {
      WebSocketClient client = vertx.createWebSocketClient();
      try {
        client.connect(options).await(10, TimeUnit.SECONDS).close();
      } finally {
        client.close();
      }
      throw new AssertionError("the upgrade was accepted: " + query);
    } catch (UpgradeRejectedException e) {
      return new Refusal(e.getStatus(), e.getBody() == null ? new JsonObject() : e.getBody().toJsonObject());
    }
  }

  record Refusal(int status, JsonObject body) {
  }

  /** The session events received (frames with a seq), in arrival order. */
  synchronized List<JsonObject> sessionEvents() {
    return events.stream().filter(e -> e.containsKey("seq")).toList();
  }

  /** The highest session event seq received so far, 0 before any. */
  synchronized long lastSeq() {
    return events.stream().filter(e -> e.containsKey("seq")).mapToLong(e -> e.getLong("seq")).max().orElse(0);
  }

  private synchronized void onEvent(JsonObject event) {
    event.put("_receivedAt", System.nanoTime());
    events.add(event);
    waiters.removeIf(w -> w.match.test(event) && w.result.complete(event));
  }

  private synchronized void onAudio(Buffer pcm) {
    audio.writeBytes(pcm.getBytes());
    audioArrivals.add(new long[] {System.nanoTime(), audio.size()});
  }

  /** When the first event of {@code type} arrived (nanoTime). */
  synchronized long eventArrival(String type) {
    return events.stream().filter(e -> type.equals(e.getString("type"))).findFirst()
        .orElseThrow(() -> new AssertionError("no " + type)).getLong("_receivedAt");
  }

  /** (arrival nanoTime, total bytes received by then) of every agent audio frame so far. */
  synchronized List<long[]> audioArrivals() {
    return new ArrayList<>(audioArrivals);
  }

  /** When the frame that took the input audio to position {@code audioMs} was sent (nanoTime). */
  long sentAt(long audioMs) {
    return framesSent.stream().filter(f -> f[0] >= audioMs).findFirst()
        .orElseThrow(() -> new AssertionError("no frame sent up to " + audioMs + " ms"))[1];
  }

  /** Input audio sent so far, in ms. */
  long sentAudioMs() {
    return sentAudioMs;
  }

  /** The first event, seen or still to come, that matches; fails after {@code timeout}. */
  JsonObject await(Predicate<JsonObject> match, Duration timeout) throws Exception {
    CompletableFuture<JsonObject> result = new CompletableFuture<>();
    synchronized (this) {
      for (JsonObject e : events) {
        if (match.test(e)) {
          return e;
        }
      }
      waiters.add(new Waiter(match, result));
    }
    try {
      return result.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      throw new AssertionError("no matching event within " + timeout + "; events so far: " + events());
    }
  }

  JsonObject await(String type, Duration timeout) throws Exception {
    return await(e -> type.equals(e.getString("type")), timeout);
  }

  /** Waits for the {@code n}-th (1-based) event of {@code type}. */
  JsonObject awaitNth(String type, int n, Duration timeout) throws Exception {
    int[] seen = {0};
    return await(e -> type.equals(e.getString("type")) && ++seen[0] == n, timeout);
  }

  synchronized List<JsonObject> events() {
    return new ArrayList<>(events);
  }

  synchronized List<JsonObject> events(String type) {
    return events.stream().filter(e -> type.equals(e.getString("type"))).toList();
  }

  synchronized byte[] audio() {
    return audio.toByteArray();
  }

  String sessionId() throws Exception {
    return await("session.ready", Duration.ofSeconds(10)).getString("sessionId");
  }

  void send(JsonObject message) throws Exception {
    socket.writeTextMessage(message.encode()).await(5, TimeUnit.SECONDS);
  }

  void sendText(String raw) throws Exception {
    socket.writeTextMessage(raw).await(5, TimeUnit.SECONDS);
  }

  void sendBinary(byte[] bytes) throws Exception {
    socket.writeBinaryMessage(Buffer.buffer(bytes)).await(5, TimeUnit.SECONDS);
  }

  boolean isOpen() {
    return !socket.isClosed();
  }

  CompletableFuture<Short> closed() {
    return closed;
  }

  /** The reason in the server's close frame, once {@link #closed} has completed. */
  String closeReason() {
    return closeReason;
  }

  /**
   * Streams {@code pcm} then {@code silenceMs} of silence in 20 ms frames, paced at {@code speed}
   * times real time by a deadline schedule (frames due by now go out on each 5 ms tick).
   */
  Future<Void> speak(byte[] pcm, int silenceMs, double speed) {
    byte[] all = new byte[pcm.length + Pcm16.bytesFor(RATE, silenceMs)];
    System.arraycopy(pcm, 0, all, 0, pcm.length);
    int frameBytes = Pcm16.bytesFor(RATE, FRAME_MS);
    int frames = (all.length + frameBytes - 1) / frameBytes;
    Promise<Void> done = Promise.promise();
    long start = System.nanoTime();
    int[] sent = {0};
    vertx.setPeriodic(0, 5, id -> {
      long due = (long) ((System.nanoTime() - start) / 1e6 * speed / FRAME_MS) + 1;
      while (sent[0] < Math.min(due, frames)) {
        int from = sent[0]++ * frameBytes;
        byte[] frame = java.util.Arrays.copyOfRange(all, from, Math.min(all.length, from + frameBytes));
        sentAudioMs += Pcm16.msFor(RATE, frame.length);
        framesSent.add(new long[] {sentAudioMs, System.nanoTime()});
        socket.writeBinaryMessage(Buffer.buffer(frame));
      }
      if (sent[0] == frames) {
        vertx.cancelTimer(id);
        done.complete();
      }
    });
    return done.future();
  }

  /** Speaks at real time and waits until every frame is sent. */
  void speakRealtime(byte[] pcm, int silenceMs) throws Exception {
    long ms = Pcm16.msFor(RATE, pcm.length) + silenceMs;
    speak(pcm, silenceMs, 1.0).await(ms + 10_000, TimeUnit.MILLISECONDS);
  }

  /** Closes the connection, then checks that every turn it saw kept the {@link EventOrder} contract. */
  @Override
  public void close() throws Exception {
    if (!socket.isClosed()) {
      socket.close().await(5, TimeUnit.SECONDS);
    }
    client.close().await(5, TimeUnit.SECONDS);
    EventOrder.check(events());
  }
}
