package io.voicemesh.bench;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import io.voicemesh.gateway.JwtTokens;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The soak's clients: {@code sessions} slots, each always holding (or opening) one voice session
 * that streams 20 ms frames at real time: silence, then one of the speech phrases, then silence
 * until the agent's turn is over, and again. Each session lives a random time, then leaves (closes
 * its WebSocket) or ends (DELETE); the slot then opens a new session for a new user, or resumes the
 * one it left ({@code sessionId} + {@code lastSeq}). One user per session, so per-user quotas never
 * bind. Slots are spread over client contexts; each context has one timer that sends its slots'
 * due frames (frame k of a connection is due at open + 20 k ms) and drives their scripts.
 */
final class SoakLoad implements AutoCloseable {
  private static final int SLICES = 8;
  private static final long TICK_MS = 10;
  private static final long CONNECT_TIMEOUT_MS = 20_000;
  private static final long ANSWER_TIMEOUT_MS = 20_000;
  private static final long FRAME_NANOS = TimeUnit.MILLISECONDS.toNanos(PcmClock.FRAME_MS);

  /** How sessions behave; times in ms, shares 0–1. */
  record Script(long minLifeMs, long maxLifeMs, long minGapMs, long maxGapMs, double resumeShare, double endShare,
      long rampMs) {
  }

  private enum State { IDLE, CONNECTING, OPEN }

  private final Vertx vertx;
  private final WebSocketClient webSockets;
  private final HttpClient http;
  private final int port;
  private final JwtTokens tokens;
  private final List<byte[]> phrases;
  private final Script script;
  private final SoakStats stats;
  private final String run = Long.toString(System.currentTimeMillis() % 1_000_000, 36);
  private final List<Context> contexts = new ArrayList<>();
  private final List<List<Slot>> slices = new ArrayList<>();
  private final long[] timers = new long[SLICES];
  private final AtomicInteger open = new AtomicInteger();
  private final AtomicInteger busy = new AtomicInteger();
  private volatile boolean stopping;

  /** One slot: the session it holds now, and the one it left (to resume). Touched only on its context. */
  private final class Slot {
    final int index;
    final Context context;
    State state = State.IDLE;
    int generation;
    int attempt;
    String token;
    String sessionId;
    long lastSeq;
    boolean resumable;
    boolean resuming;
    boolean leaving;
    WebSocket socket;
    long openedAt;
    long framesSent;
    long leaveAt;
    long reconnectAt;
    byte[] phrase;
    int phraseFrame;
    boolean awaitingAnswer;
    long answerDeadline;
    long nextSpeakAt;

    Slot(int index, Context context, long firstConnectAt) {
      this.index = index;
      this.context = context;
      this.reconnectAt = firstConnectAt;
    }
  }

  SoakLoad(int port, JwtTokens tokens, List<byte[]> phrases, Script script, SoakStats stats) throws Exception {
    this.port = port;
    this.tokens = tokens;
    this.phrases = phrases;
    this.script = script;
    this.stats = stats;
    vertx = Vertx.vertx();
    webSockets = vertx.createWebSocketClient(new WebSocketClientOptions().setMaxConnections(100_000)
        .setConnectTimeout((int) CONNECT_TIMEOUT_MS));
    http = vertx.createHttpClient();
    contexts.addAll(LoadClient.eventLoopContexts(vertx, SLICES));
    for (int i = 0; i < SLICES; i++) {
      slices.add(new ArrayList<>());
    }
  }

  /** Starts {@code sessions} slots, their first connects spread over the ramp. */
  void start(int sessions) {
    long now = System.nanoTime();
    for (int i = 0; i < sessions; i++) {
      int slice = i % SLICES;
      long first = now + TimeUnit.MILLISECONDS.toNanos(script.rampMs() * i / Math.max(1, sessions));
      slices.get(slice).add(new Slot(i, contexts.get(slice), first));
    }
    for (int s = 0; s < SLICES; s++) {
      int slice = s;
      contexts.get(slice).runOnContext(v -> timers[slice] = vertx.setPeriodic(TICK_MS, id -> tick(slices.get(slice))));
    }
  }

  /** Connections with {@code session.ready} now. */
  int open() {
    return open.get();
  }

  /**
   * Every session leaves (closes its WebSocket) and no slot opens another; waits (bounded) until
   * every connection is closed. Returns how many were still open at the deadline.
   */
  int leaveAll(long timeoutMs) throws InterruptedException {
    stopping = true; // each slot's next tick closes its connection
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
    while (busy.get() > 0 && System.nanoTime() < deadline) {
      Thread.sleep(50); // the poll interval
    }
    return busy.get();
  }

  // ---- on a slot's context --------------------------------------------------------------------

  private void tick(List<Slot> slots) {
    long now = System.nanoTime();
    for (Slot slot : slots) {
      if (slot.state == State.IDLE && !stopping && now >= slot.reconnectAt) {
        connect(slot);
      } else if (slot.state == State.OPEN && !slot.leaving) {
        if (stopping) {
          slot.leaving = true;
          stats.left.increment();
          slot.socket.close();
        } else if (now >= slot.leaveAt) {
          leave(slot);
        } else {
          stream(slot, now);
        }
      }
    }
  }

  private void connect(Slot slot) {
    slot.state = State.CONNECTING;
    int attempt = ++slot.attempt;
    busy.incrementAndGet();
    slot.leaving = false;
    slot.resuming = slot.resumable && ThreadLocalRandom.current().nextDouble() < script.resumeShare();
    String uri;
    if (slot.resuming) {
      stats.resumesTried.increment();
      uri = "/v1/voice?token=" + slot.token + "&sessionId=" + enc(slot.sessionId) + "&lastSeq=" + slot.lastSeq;
    } else {
      // A new user for every new session: per-user quotas (sessions, STT streams) never bind.
      slot.generation++;
      slot.token = tokens.mint("soak-" + run + "-" + slot.index + "-" + slot.generation, null,
          Instant.now().plus(Duration.ofHours(3))).token();
      slot.sessionId = null;
      slot.lastSeq = 0;
      uri = "/v1/voice?token=" + slot.token;
    }
    slot.resumable = false;
    long timer = vertx.setTimer(CONNECT_TIMEOUT_MS, t -> {
      if (slot.state == State.CONNECTING && slot.attempt == attempt) {
        WebSocket late = slot.socket;
        connectFailed(slot, "no session.ready within " + CONNECT_TIMEOUT_MS + " ms");
        if (late != null) {
          late.close();
        }
      }
    });
    webSockets.connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(port).setURI(uri)
            .setTimeout(CONNECT_TIMEOUT_MS))
        .onSuccess(socket -> {
          if (slot.state != State.CONNECTING || slot.attempt != attempt) {
            socket.close(); // this attempt already timed out
            return;
          }
          // Handlers go on here, in the connect callback: session.ready may be the next frame.
          slot.socket = socket;
          socket.textMessageHandler(text -> onText(slot, text, timer));
          socket.binaryMessageHandler(audio -> stats.agentAudioBytes.add(audio.length()));
          socket.exceptionHandler(e -> { });
          socket.closeHandler(v -> onClosed(slot, socket));
        })
        .onFailure(e -> {
          vertx.cancelTimer(timer);
          if (slot.state == State.CONNECTING && slot.attempt == attempt) {
            connectFailed(slot, e instanceof UpgradeRejectedException rejected
                ? "HTTP " + rejected.getStatus() : e.getClass().getSimpleName());
          }
        });
  }

  private void connectFailed(Slot slot, String why) {
    SoakStats.count(stats.connectFailures, why);
    slot.state = State.IDLE;
    slot.socket = null;
    // A resume that failed is not tried again: the slot starts a new session next.
    slot.reconnectAt = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(1000 + ThreadLocalRandom.current().nextLong(1000));
    busy.decrementAndGet();
  }

  private void onText(Slot slot, String text, long connectTimer) {
    JsonObject event;
    try {
      event = new JsonObject(text);
    } catch (RuntimeException e) {
      return;
    }
    long now = System.nanoTime();
    Object seq = event.getValue("seq");
    if (seq instanceof Number n) {
      slot.lastSeq = Math.max(slot.lastSeq, n.longValue());
    }
    String type = String.valueOf(event.getString("type"));
    if (slot.state != State.OPEN && !"session.ready".equals(type)) {
      return; // events replayed on a resume were counted when they first came
    }
    SoakStats.count(stats.events, type);
    switch (type) {
      case "session.ready" -> {
        vertx.cancelTimer(connectTimer);
        if (slot.state != State.CONNECTING) {
          return;
        }
        slot.state = State.OPEN;
        open.incrementAndGet();
        slot.sessionId = event.getString("sessionId", slot.sessionId);
        if (slot.resuming) {
          if (Boolean.TRUE.equals(event.getBoolean("resumed"))) {
            stats.resumed.increment();
          } else {
            SoakStats.count(stats.connectFailures, "resume not acknowledged (resumed=false)");
          }
        } else {
          stats.newSessions.increment();
        }
        slot.openedAt = now;
        slot.framesSent = 0;
        ThreadLocalRandom random = ThreadLocalRandom.current();
        slot.leaveAt = now + TimeUnit.MILLISECONDS.toNanos(random.nextLong(script.minLifeMs(), script.maxLifeMs() + 1));
        slot.nextSpeakAt = now + TimeUnit.MILLISECONDS.toNanos(random.nextLong(300, 2000));
        slot.phrase = null;
        slot.awaitingAnswer = false;
      }
      case "transcript.final" -> {
        if (event.getString("text", "").isBlank()) {
          stats.emptyTranscripts.increment();
          answered(slot, now); // nothing recognized: no agent turn will come
        } else {
          stats.transcripts.increment();
        }
      }
      case "agent_completed" -> {
        if (event.getJsonObject("error") != null) {
          stats.turnsFailed.increment();
          SoakStats.count(stats.errors, "turn: " + event.getJsonObject("error").getString("code"));
        } else if (Boolean.TRUE.equals(event.getBoolean("interrupted"))) {
          stats.turnsInterrupted.increment();
        } else {
          stats.turnsCompleted.increment();
        }
        answered(slot, now);
      }
      case "error" -> SoakStats.count(stats.errors, String.valueOf(event.getString("code")));
      default -> { }
    }
  }

  private void answered(Slot slot, long now) {
    if (slot.awaitingAnswer) {
      slot.awaitingAnswer = false;
      slot.nextSpeakAt = now + TimeUnit.MILLISECONDS.toNanos(
          ThreadLocalRandom.current().nextLong(script.minGapMs(), script.maxGapMs() + 1));
    }
  }

  private void onClosed(Slot slot, WebSocket socket) {
    if (slot.socket != socket) {
      return;
    }
    if (slot.state == State.OPEN) {
      open.decrementAndGet();
    }
    if (!slot.leaving) {
      SoakStats.count(slot.state == State.OPEN ? stats.serverCloses : stats.connectFailures,
          "closed " + socket.closeStatusCode() + (socket.closeReason() == null ? "" : " " + socket.closeReason()));
    }
    boolean ended = slot.leaving && slot.sessionId == null;
    slot.resumable = !ended && slot.sessionId != null;
    slot.state = State.IDLE;
    slot.socket = null;
    slot.reconnectAt = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ThreadLocalRandom.current().nextLong(100, 2000));
    busy.decrementAndGet();
  }

  /** Leaves: closes the WebSocket (resumable later), or ends the session with DELETE (the server closes). */
  private void leave(Slot slot) {
    slot.leaving = true;
    WebSocket socket = slot.socket;
    if (ThreadLocalRandom.current().nextDouble() >= script.endShare()) {
      stats.left.increment();
      socket.close();
      return;
    }
    String sessionId = slot.sessionId;
    slot.sessionId = null; // ended: never resumed
    http.request(new RequestOptions().setMethod(HttpMethod.DELETE).setHost("127.0.0.1").setPort(port)
            .setURI("/api/v1/sessions/" + enc(sessionId)).putHeader("Authorization", "Bearer " + slot.token))
        .compose(request -> request.send().compose(response -> response.body().map(body -> response.statusCode())))
        .onComplete(result -> {
          if (result.succeeded() && result.result() == 200) {
            stats.ended.increment();
          } else {
            SoakStats.count(stats.errors, "DELETE " + (result.succeeded() ? "HTTP " + result.result() : "failed"));
          }
          // The server closes an ended session's connections; close it ourselves if it has not.
          vertx.setTimer(5_000, t -> {
            if (slot.socket == socket) {
              socket.close();
            }
          });
        });
  }

  /** Sends the slot's due frames: speech while a phrase plays, silence otherwise. */
  private void stream(Slot slot, long now) {
    if (slot.phrase == null && !slot.awaitingAnswer && now >= slot.nextSpeakAt) {
      slot.phrase = phrases.get(ThreadLocalRandom.current().nextInt(phrases.size()));
      slot.phraseFrame = 0;
      stats.phrasesSpoken.increment();
    }
    if (slot.awaitingAnswer && now >= slot.answerDeadline) {
      stats.unanswered.increment(); // no transcript.final and agent_completed in time (e.g. no STT stream: capacity)
      slot.awaitingAnswer = false;
      slot.nextSpeakAt = now;
    }
    long due = (now - slot.openedAt) / FRAME_NANOS;
    // Never more than 3 frames at once: a client that fell behind skips audio rather than burst.
    if (due - slot.framesSent > 3) {
      slot.framesSent = due - 3;
    }
    while (slot.framesSent < due) {
      byte[] frame = new byte[PcmClock.FRAME_BYTES]; // silence unless a phrase plays
      if (slot.phrase != null) {
        int from = slot.phraseFrame * PcmClock.FRAME_BYTES;
        System.arraycopy(slot.phrase, from, frame, 0, Math.min(PcmClock.FRAME_BYTES, slot.phrase.length - from));
        if (++slot.phraseFrame * PcmClock.FRAME_BYTES >= slot.phrase.length) {
          slot.phrase = null;
          slot.awaitingAnswer = true;
          slot.answerDeadline = now + TimeUnit.MILLISECONDS.toNanos(ANSWER_TIMEOUT_MS);
        }
      }
      slot.socket.writeBinaryMessage(Buffer.buffer(frame));
      slot.framesSent++;
      stats.framesSent.increment();
    }
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  @Override
  public void close() {
    for (int s = 0; s < SLICES; s++) {
      int slice = s;
      contexts.get(slice).runOnContext(v -> vertx.cancelTimer(timers[slice]));
    }
    EventBusHop.close(vertx);
  }
}
