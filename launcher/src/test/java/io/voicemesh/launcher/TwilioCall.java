package io.voicemesh.launcher;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.json.JsonObject;
import io.voicemesh.api.audio.G711;
import io.voicemesh.api.audio.Resampler;
import java.io.ByteArrayOutputStream;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A phone call as Twilio streams it to {@code /v1/twilio} ({@code <Connect><Stream>}), in Twilio's
 * documented JSON: {@code connected}, {@code start}, then a {@code media} message of 20 ms of μ-law
 * at 8 kHz every 20 ms for as long as the call lasts — silence when the caller says nothing —,
 * {@code dtmf}, {@code stop}. It plays the agent's {@code media} with no buffer of its own, so it
 * echoes each {@code mark} as it arrives, as Twilio does once the audio before it is played; a
 * test can stop the echoes ({@link #echoMarksUpTo}) to stand for a caller whose playback lags.
 */
final class TwilioCall implements AutoCloseable {
  static final int FRAME_MS = 20;
  private static final int FRAME_BYTES = G711.RATE_HZ * FRAME_MS / 1000;
  /** μ-law of silence. */
  private static final byte SILENCE = (byte) 0xFF;

  final String streamSid = "MZ" + UUID.randomUUID().toString().replace("-", "");
  final String callSid = "CA" + UUID.randomUUID().toString().replace("-", "");
  private final Vertx vertx;
  /** Held for as long as the socket: Vert.x closes a client that is no longer referenced. */
  private final WebSocketClient client;
  private final WebSocket socket;
  private final List<JsonObject> received = new ArrayList<>();
  private final ByteArrayOutputStream agentAudio = new ByteArrayOutputStream();
  private final Deque<byte[]> toSay = new ArrayDeque<>();
  private final List<CompletableFuture<Void>> said = new ArrayList<>();
  private final CompletableFuture<Short> closed = new CompletableFuture<>();
  private long streamTimer = -1;
  private boolean stopped;
  /** Twilio numbers every message it sends; media chunks on their own. */
  private int sequence;
  private int chunk;
  private long startNanos;
  private volatile long echoMarksUpToMs = Long.MAX_VALUE;

  private TwilioCall(Vertx vertx, WebSocketClient client, WebSocket socket) {
    this.vertx = vertx;
    this.client = client;
    this.socket = socket;
    socket.textMessageHandler(this::onMessage);
    socket.closeHandler(v -> closed.complete(socket.closeStatusCode()));
  }

  /** Opens the stream's WebSocket on {@code /v1/twilio}{@code query} (e.g. "" or "?token=…"). */
  static TwilioCall open(Vertx vertx, int port, String query) throws Exception {
    WebSocketClient client = vertx.createWebSocketClient();
    return client.connect(port, "127.0.0.1", "/v1/twilio" + query)
        .map(socket -> new TwilioCall(vertx, client, socket))
        .await(10, TimeUnit.SECONDS);
  }

  private synchronized void onMessage(String text) {
    JsonObject message = new JsonObject(text);
    received.add(message);
    if ("media".equals(message.getString("event"))) {
      agentAudio.writeBytes(Base64.getDecoder().decode(message.getJsonObject("media").getString("payload")));
    } else if ("mark".equals(message.getString("event")) && agentAudioMs() <= echoMarksUpToMs) {
      send(new JsonObject().put("event", "mark").put("streamSid", streamSid).put("mark", message.getJsonObject("mark")));
    }
    notifyAll();
  }

  /** {@code connected} and {@code start} with these custom parameters (TwiML's {@code <Parameter>}s), then the media stream. */
  synchronized void start(Map<String, String> customParameters) {
    send(new JsonObject().put("event", "connected").put("protocol", "Call").put("version", "1.0.0"));
    JsonObject parameters = new JsonObject();
    customParameters.forEach(parameters::put);
    send(new JsonObject().put("event", "start").put("sequenceNumber", String.valueOf(++sequence))
        .put("start", new JsonObject().put("accountSid", "AC" + "0".repeat(32)).put("streamSid", streamSid)
            .put("callSid", callSid).put("tracks", List.of("inbound"))
            .put("mediaFormat", new JsonObject().put("encoding", "audio/x-mulaw").put("sampleRate", 8000).put("channels", 1))
            .put("customParameters", parameters))
        .put("streamSid", streamSid));
    startMedia();
  }

  /** The media stream alone, every 20 ms from now on (a deadline schedule: frames due go out on each 5 ms tick). */
  synchronized void startMedia() {
    startNanos = System.nanoTime();
    streamTimer = vertx.setPeriodic(0, 5, id -> {
      long due = (System.nanoTime() - startNanos) / 1_000_000 / FRAME_MS + 1;
      while (chunk < due) {
        byte[] frame = nextFrame();
        if (frame == null) {
          return;
        }
        media(frame);
      }
    });
  }

  /** The caller says {@code pcm16k} (PCM16 at 16 kHz): μ-law at 8 kHz in the stream. Completes once all of it is sent. */
  synchronized CompletableFuture<Void> say(byte[] pcm16k) {
    Resampler down = new Resampler(16_000, G711.RATE_HZ);
    byte[] codes = G711.ULAW.encode(Speech.concat(down.process(pcm16k), down.flush()));
    for (int from = 0; from < codes.length; from += FRAME_BYTES) {
      byte[] frame = new byte[FRAME_BYTES];
      Arrays.fill(frame, SILENCE);
      System.arraycopy(codes, from, frame, 0, Math.min(FRAME_BYTES, codes.length - from));
      toSay.addLast(frame);
    }
    CompletableFuture<Void> done = new CompletableFuture<>();
    said.add(done);
    return done;
  }

  /** The next 20 ms of the call: what the caller says, else silence; null once the call has stopped. */
  private synchronized byte[] nextFrame() {
    if (stopped) {
      return null;
    }
    byte[] frame = toSay.pollFirst();
    if (toSay.isEmpty() && !said.isEmpty()) {
      said.forEach(done -> done.complete(null));
      said.clear();
    }
    if (frame != null) {
      return frame;
    }
    byte[] silence = new byte[FRAME_BYTES];
    Arrays.fill(silence, SILENCE);
    return silence;
  }

  private synchronized void media(byte[] frame) {
    chunk++;
    send(new JsonObject().put("event", "media").put("sequenceNumber", String.valueOf(++sequence))
        .put("media", new JsonObject().put("track", "inbound").put("chunk", String.valueOf(chunk))
            .put("timestamp", String.valueOf((chunk - 1) * FRAME_MS)).put("payload", Base64.getEncoder().encodeToString(frame)))
        .put("streamSid", streamSid));
  }

  synchronized void dtmf(String digit) {
    send(new JsonObject().put("event", "dtmf").put("streamSid", streamSid).put("sequenceNumber", String.valueOf(++sequence))
        .put("dtmf", new JsonObject().put("track", "inbound_track").put("digit", digit)));
  }

  /** The caller hung up: {@code stop}, and no more media. */
  synchronized void stop() {
    stopped = true;
    vertx.cancelTimer(streamTimer);
    send(new JsonObject().put("event", "stop").put("sequenceNumber", String.valueOf(++sequence)).put("streamSid", streamSid)
        .put("stop", new JsonObject().put("accountSid", "AC" + "0".repeat(32)).put("callSid", callSid)));
  }

  /** {@code stop}, then the socket closes at once, as Twilio does when a call ends. */
  void hangUp() {
    stop();
    socket.close();
  }

  void send(JsonObject message) {
    sendText(message.encode());
  }

  void sendText(String text) {
    if (!socket.isClosed()) {
      socket.writeTextMessage(text);
    }
  }

  void sendBinary(byte[] bytes) {
    socket.writeBinaryMessage(Buffer.buffer(bytes));
  }

  /** Marks that arrive once more than {@code ms} of the agent's audio has been received are not echoed. */
  void echoMarksUpTo(long ms) {
    echoMarksUpToMs = ms;
  }

  synchronized List<JsonObject> received() {
    return List.copyOf(received);
  }

  /** The agent's audio received so far, decoded: PCM16 at 8 kHz. */
  synchronized byte[] agentAudio() {
    return G711.ULAW.decode(agentAudio.toByteArray());
  }

  synchronized long agentAudioMs() {
    return agentAudio.size() * 1000L / G711.RATE_HZ;
  }

  /** Waits until {@code done} holds for this call. */
  synchronized void await(Predicate<TwilioCall> done, Duration timeout, String what) throws InterruptedException {
    long end = System.nanoTime() + timeout.toNanos();
    while (!done.test(this)) {
      long left = (end - System.nanoTime()) / 1_000_000;
      if (left <= 0) {
        throw new AssertionError("timed out waiting for " + what + "; received " + received.stream()
            .map(m -> m.getString("event")).distinct().toList() + ", agent audio " + agentAudioMs() + " ms");
      }
      wait(Math.min(left, 100));
    }
  }

  /** The first message received of {@code event}, waiting for it. */
  JsonObject awaitMessage(String event, Duration timeout) throws InterruptedException {
    await(call -> call.received.stream().anyMatch(m -> event.equals(m.getString("event"))), timeout, event);
    return received().stream().filter(m -> event.equals(m.getString("event"))).findFirst().orElseThrow();
  }

  CompletableFuture<Short> closed() {
    return closed;
  }

  String closeReason() {
    return socket.closeReason();
  }

  @Override
  public void close() throws Exception {
    synchronized (this) {
      stopped = true;
      vertx.cancelTimer(streamTimer);
    }
    if (!socket.isClosed()) {
      socket.close().await(5, TimeUnit.SECONDS);
    }
    client.close().await(5, TimeUnit.SECONDS);
  }
}
