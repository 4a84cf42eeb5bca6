package io.voicemesh.bench;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import io.voicemesh.api.audio.Pcm16;
import io.voicemesh.api.engine.Engines;
import io.voicemesh.api.engine.TtsEngine;
import io.voicemesh.api.engine.TtsEngineProvider;
import java.io.ByteArrayOutputStream;
import io.voicemesh.api.audio.Wav;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * Figures 3 and 4: real turns against the all-in-one mesh with its default engines (Vosk,
 * FreeTTS, the builtin agent). FreeTTS speaks the user's words (or a WAV file holds them); they
 * are streamed at real time in 20 ms frames, then silence, one session per turn, several sessions
 * at once. Times are taken at the client:
 *
 * <pre>
 * end of speech  = when the last frame above -40 dBFS was sent (the next one is the first quiet
 *                  frame; frames are sent when complete, as from a microphone)
 * voice-to-voice = end of speech → first agent audio frame
 *   endpointing  = end of speech → transcript.final      (contains the configured silence)
 *   after        = transcript.final → first agent audio
 * STT final lag  = transcript.final − (end of speech + silenceMs)
 * </pre>
 */
final class VoiceToVoice {
  static final double VOICED_DBFS = -40;
  private static final int LEAD_SILENCE_MS = 300;
  private static final long TURN_TIMEOUT_MS = 30_000;

  /**
   * One measured turn; times in nanoseconds, or a failure. {@code endedAfterAudioMs}: where the
   * turn ended in the audio (transcript.final's audioMs) after the end of speech there, no machine
   * load in it.
   */
  record Turn(String phrase, String transcript, String answer, long voiceToVoice, long endpointing,
      long afterEndpointing, long finalAfterWindow, JsonObject serverTimings, String failure, long endedAfterAudioMs) {
    Turn(String phrase, String transcript, String answer, long voiceToVoice, long endpointing, long afterEndpointing,
        long finalAfterWindow, JsonObject serverTimings, String failure) {
      this(phrase, transcript, answer, voiceToVoice, endpointing, afterEndpointing, finalAfterWindow, serverTimings,
          failure, -1);
    }

    boolean ok() {
      return failure == null;
    }

    /** The turn ended before the end of the speech: cut off in a pause. */
    boolean cutOff() {
      return failure != null && failure.startsWith(FINAL_BEFORE_END);
    }
  }

  private static final String FINAL_BEFORE_END = "a transcript.final";
  /** {@code endedAfterAudioMs} when the protocol does not say where in the audio the turn ended. */
  static final long UNKNOWN = Long.MIN_VALUE;

  private final Vertx vertx;
  private final int port;
  private String uri;
  /** Makes each turn's protocol client. */
  private java.util.function.Supplier<Wire> wires = () -> VOICEMESH;
  private final long silenceMs;
  private final Map<String, byte[]> speech = new LinkedHashMap<>();
  /** Sent as {@code session.update} before each turn's speech (null: the mesh's defaults). */
  private JsonObject sessionUpdate;

  /** Speech from a WAV file (PCM16 mono 16 kHz) instead of FreeTTS. */
  VoiceToVoice(Vertx vertx, int port, String uri, long silenceMs, Path wav) throws Exception {
    this.vertx = vertx;
    this.port = port;
    this.uri = uri;
    this.silenceMs = silenceMs;
    Wav.Audio audio = Wav.read(Files.readAllBytes(wav));
    if (audio.sampleRateHz() != Pcm16.DEFAULT_RATE_HZ) {
      throw new IllegalArgumentException(wav + " is " + audio.sampleRateHz() + " Hz; the bench streams 16000 Hz");
    }
    speech.put(wav.getFileName().toString(), audio.pcm());
  }

  VoiceToVoice(Vertx vertx, int port, String uri, long silenceMs, List<String> phrases) throws Exception {
    this(vertx, port, uri, silenceMs, say(phrases));
  }

  /** Speech given as PCM16 mono 16 kHz, by name. */
  VoiceToVoice(Vertx vertx, int port, String uri, long silenceMs, Map<String, byte[]> speech) {
    this.vertx = vertx;
    this.port = port;
    this.uri = uri;
    this.silenceMs = silenceMs;
    this.speech.putAll(speech);
  }

  /** Each phrase spoken by FreeTTS, PCM16 mono 16 kHz. */
  static Map<String, byte[]> say(List<String> phrases) throws Exception {
    Map<String, byte[]> spoken = new LinkedHashMap<>();
    TtsEngine tts = Engines.create(TtsEngineProvider.class, "freetts", null, new JsonObject().put("voices", 1));
    try {
      for (String phrase : phrases) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        tts.synthesize(phrase, "kevin16", out::writeBytes, () -> false);
        spoken.put(phrase, out.toByteArray());
      }
    } finally {
      tts.close();
    }
    return spoken;
  }

  /** Each turn speaks the protocol {@code wires} makes, at {@code uri}, instead of {@code voicemesh.v1}. */
  VoiceToVoice over(java.util.function.Supplier<Wire> wires, String uri) {
    this.wires = wires;
    this.uri = uri;
    return this;
  }

  /** Every session first sends {@code update} as its {@code session.update} and waits for {@code session.updated}. */
  VoiceToVoice withSessionUpdate(JsonObject update) {
    this.sessionUpdate = update;
    return this;
  }

  /**
   * {@code warmup} unmeasured turns, then {@code turns} measured ones, alternating the phrases,
   * with {@code sessions} sessions talking at the same time.
   */
  List<Turn> run(int warmup, int turns, int sessions) throws Exception {
    List<String> phrases = new ArrayList<>(speech.keySet());
    List<Turn> measured = Collections.synchronizedList(new ArrayList<>());
    WebSocketClient client = vertx.createWebSocketClient();
    ExecutorService talkers = Executors.newFixedThreadPool(sessions);
    try {
      for (int i = 0; i < warmup; i++) {
        System.out.printf("  warm-up turn %d: %s%n", i + 1, describe(turn(client, phrases.get(i % phrases.size()))));
      }
      List<Future<?>> running = new ArrayList<>();
      for (int i = 0; i < turns; i++) {
        int index = i;
        running.add(talkers.submit(() -> {
          Turn turn = turn(client, phrases.get(index % phrases.size()));
          System.out.printf("  measured turn %d: %s%n", index + 1, describe(turn));
          measured.add(turn);
          return null;
        }));
      }
      for (Future<?> turn : running) {
        turn.get(TURN_TIMEOUT_MS * 3, TimeUnit.MILLISECONDS);
      }
    } finally {
      talkers.shutdownNow();
      client.close().await(10, TimeUnit.SECONDS);
    }
    return measured;
  }

  static String describe(Turn t) {
    if (!t.ok()) {
      return "\"" + t.phrase() + "\" FAILED: " + t.failure();
    }
    return String.format("\"%s\" -> heard \"%s\", answered \"%s\" | voice-to-voice %.0f ms = endpointing %.0f + after %.0f"
            + " | final %.0f ms after the silence window | turn ended %d ms of audio after the speech", t.phrase(),
        t.transcript(), t.answer(), t.voiceToVoice() / 1e6, t.endpointing() / 1e6, t.afterEndpointing() / 1e6,
        t.finalAfterWindow() / 1e6, t.endedAfterAudioMs()).replace(" | turn ended " + UNKNOWN + " ms of audio after the speech", "");
  }

  /** What the client saw of one turn; written on the socket's event loop, read after the latch. */
  static final class Observed {
    final CountDownLatch ready = new CountDownLatch(1);
    final CountDownLatch updated = new CountDownLatch(1);
    final CountDownLatch completed = new CountDownLatch(1);
    volatile long endOfSpeechAt;
    volatile long finalAt;
    volatile long finalAudioMs;
    volatile String finalText;
    volatile long firstAudioAt;
    volatile String answer = "";
    volatile JsonObject timings;
    volatile String note;
    volatile long timer = -1;
    volatile io.vertx.core.Context context;

    void ready() {
      ready.countDown();
    }

    void updated() {
      updated.countDown();
    }

    /** The user's turn ended with {@code text} (at {@code audioMs} of the session's audio, or -1). */
    void transcript(String text, long audioMs) {
      long now = System.nanoTime();
      if (endOfSpeechAt != 0 && finalAt == 0 && !text.isBlank()) {
        finalAt = now;
        finalAudioMs = audioMs;
        finalText = text;
      } else if (endOfSpeechAt != 0 && finalAt == 0) {
        note = "transcript.final was empty: nothing recognized, so no agent turn";
        completed.countDown();
      } else if (endOfSpeechAt == 0 && !text.isBlank()) {
        note = FINAL_BEFORE_END + " (\"" + text + "\") came before the end of speech";
      }
    }

    void agentAudio() {
      if (firstAudioAt == 0 && finalAt != 0) {
        firstAudioAt = System.nanoTime();
      }
    }

    /**
     * For a protocol that shows the client no end of the user's turn (Twilio): the first agent
     * audio after the end of speech ends the measured turn; all of it counts as after endpointing.
     */
    void agentAudioWithoutTurnEvents() {
      if (firstAudioAt == 0 && endOfSpeechAt != 0) {
        finalAt = endOfSpeechAt;
        finalText = "(not shown by the protocol)";
        firstAudioAt = System.nanoTime();
        completed.countDown();
      }
    }

    void answer(String text) {
      answer = text;
    }

    void completed(JsonObject serverTimings) {
      timings = serverTimings;
      if (finalAt != 0 || note != null) {
        completed.countDown();
      }
    }

    void error(String why) {
      note = why;
    }
  }

  /** A wire protocol as the bench's client speaks it, for one turn's connection. */
  interface Wire {
    /**
     * What the client sends as soon as the connection opens, before the gateway says anything
     * (Twilio's {@code connected} and {@code start}); none by default.
     */
    default List<String> opening(Observed seen) {
      return List.of();
    }

    /** The messages after the session is ready (the session settings the turn needs), each answered by an update; or none. */
    default List<String> setup() {
      return List.of();
    }

    /** A 20 ms frame of the user's PCM16 16 kHz audio, written to the socket. */
    void frame(WebSocket socket, byte[] pcm);

    /** What a text message from the gateway tells the client. */
    void text(Observed seen, JsonObject event);

    /** What a binary message from the gateway tells the client. */
    default void binary(Observed seen) {
    }
  }

  /** {@code voicemesh.v1} on {@code /v1/voice}. */
  static final Wire VOICEMESH = new Wire() {
    @Override
    public void frame(WebSocket socket, byte[] pcm) {
      socket.writeBinaryMessage(Buffer.buffer(pcm));
    }

    @Override
    public void binary(Observed seen) {
      seen.agentAudio();
    }

    @Override
    public void text(Observed seen, JsonObject event) {
      switch (String.valueOf(event.getString("type"))) {
        case "session.ready" -> seen.ready();
        case "session.updated" -> seen.updated();
        case "transcript.final" -> seen.transcript(event.getString("text", ""), event.getLong("audioMs", -1L));
        case "agent_response" -> seen.answer(event.getString("text", ""));
        case "agent_completed" -> seen.completed(event.getJsonObject("timings"));
        case "error" -> seen.error("error " + event.getString("code") + ": " + event.getString("message"));
        default -> { }
      }
    }

  };

  private Turn turn(WebSocketClient client, String phrase) throws Exception {
    int frame = Pcm16.bytesFor(Pcm16.DEFAULT_RATE_HZ, PcmClock.FRAME_MS);
    byte[] voice = speech.get(phrase);
    int leadFrames = LEAD_SILENCE_MS / PcmClock.FRAME_MS;
    int speechFrames = (voice.length + frame - 1) / frame;
    byte[] audio = Arrays.copyOf(voice, speechFrames * frame);
    int lastVoiced = -1;
    for (int f = 0; f < speechFrames; f++) {
      if (Pcm16.rmsDbfs(audio, f * frame, frame) > VOICED_DBFS) {
        lastVoiced = f;
      }
    }
    if (lastVoiced < 0) {
      return new Turn(phrase, "", "", 0, 0, 0, 0, null, "the speech has no audio above -40 dBFS");
    }
    int lastVoicedFrame = leadFrames + lastVoiced;
    Observed seen = new Observed();
    Wire wire = wires.get();
    WebSocket socket = client.connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(port)
            .setURI(uri).setTimeout(10_000))
        .map(ws -> {
          // On the socket's event loop: handlers first, session.ready may be the next frame.
          seen.context = Vertx.currentContext();
          ws.textMessageHandler(text -> wire.text(seen, new JsonObject(text)));
          ws.binaryMessageHandler(pcm -> wire.binary(seen));
          ws.closeHandler(v -> {
            seen.note = "connection closed " + ws.closeStatusCode();
            seen.ready.countDown();
            seen.completed.countDown();
          });
          wire.opening(seen).forEach(ws::writeTextMessage);
          return ws;
        })
        .await(15, TimeUnit.SECONDS);
    try {
      if (!seen.ready.await(15, TimeUnit.SECONDS) || seen.note != null) {
        return new Turn(phrase, "", "", 0, 0, 0, 0, null, "no session.ready" + (seen.note == null ? "" : ": " + seen.note));
      }
      for (String message : wire.setup()) {
        socket.writeTextMessage(message).await(5, TimeUnit.SECONDS);
        if (!seen.updated.await(15, TimeUnit.SECONDS) || seen.note != null) {
          return new Turn(phrase, "", "", 0, 0, 0, 0, null, "no session.updated" + (seen.note == null ? "" : ": " + seen.note));
        }
      }
      if (sessionUpdate != null) {
        socket.writeTextMessage(sessionUpdate.copy().put("type", "session.update").encode()).await(5, TimeUnit.SECONDS);
        if (!seen.updated.await(15, TimeUnit.SECONDS) || seen.note != null) {
          return new Turn(phrase, "", "", 0, 0, 0, 0, null, "no session.updated" + (seen.note == null ? "" : ": " + seen.note));
        }
      }
      // Stream at real time from the socket's own event loop, as a microphone would: frame k
      // (audio 20 k .. 20 k + 20 ms) is sent once it is complete, at start + 20 (k + 1) ms.
      CountDownLatch streaming = new CountDownLatch(1);
      long start = System.nanoTime();
      long frameNanos = TimeUnit.MILLISECONDS.toNanos(PcmClock.FRAME_MS);
      long[] sent = {0};
      Runnable startTimer = () -> {
        seen.timer = vertx.setPeriodic(5, id -> {
          long due = (System.nanoTime() - start) / frameNanos;
          while (sent[0] < due) {
            int f = (int) sent[0];
            byte[] pcm = new byte[frame];
            int speechIndex = f - leadFrames;
            if (speechIndex >= 0 && speechIndex < speechFrames) {
              System.arraycopy(audio, speechIndex * frame, pcm, 0, frame);
            }
            wire.frame(socket, pcm);
            if (f == lastVoicedFrame) {
              seen.endOfSpeechAt = System.nanoTime();
            }
            sent[0]++;
          }
        });
        streaming.countDown();
      };
      // The socket's context: a timer set there sends on the connection's own thread.
      io.vertx.core.Context context = seen.context;
      context.runOnContext(v -> startTimer.run());
      streaming.await(5, TimeUnit.SECONDS);
      long speechMs = (long) (leadFrames + speechFrames) * PcmClock.FRAME_MS;
      boolean done = seen.completed.await(speechMs + TURN_TIMEOUT_MS, TimeUnit.MILLISECONDS);
      context.runOnContext(v -> vertx.cancelTimer(seen.timer));
      if (!done) {
        return failed(phrase, seen, "no agent_completed within " + (speechMs + TURN_TIMEOUT_MS) + " ms");
      }
      if (seen.note != null) {
        return failed(phrase, seen, seen.note);
      }
      if (seen.finalAt == 0 || seen.firstAudioAt == 0) {
        return failed(phrase, seen, seen.finalAt == 0 ? "no non-empty transcript.final after the end of speech"
            : "no agent audio");
      }
      long endpointing = seen.finalAt - seen.endOfSpeechAt;
      long after = seen.firstAudioAt - seen.finalAt;
      long speechEndAudioMs = (long) (lastVoicedFrame + 1) * PcmClock.FRAME_MS;
      return new Turn(phrase, seen.finalText, seen.answer, endpointing + after, endpointing, after,
          endpointing - TimeUnit.MILLISECONDS.toNanos(silenceMs), seen.timings, null,
          seen.finalAudioMs < 0 ? UNKNOWN : seen.finalAudioMs - speechEndAudioMs);
    } finally {
      socket.close().await(10, TimeUnit.SECONDS);
    }
  }

  private static Turn failed(String phrase, Observed seen, String why) {
    return new Turn(phrase, String.valueOf(seen.finalText), seen.answer, 0, 0, 0, 0, null, why);
  }
}
