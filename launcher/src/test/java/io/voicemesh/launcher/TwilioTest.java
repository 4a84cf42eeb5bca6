package io.voicemesh.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import io.vertx.core.http.UpgradeRejectedException;
import io.voicemesh.launcher.ScriptedOpenAiServer.Answer;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code /v1/twilio} driven by a {@link TwilioCall}: Twilio's own JSON messages, real speech as
 * μ-law at 8 kHz in 20 ms media messages at real time. What Twilio cannot see (it gets no session
 * events) is checked in the session's event log, in the mesh's PostgreSQL.
 */
@DisplayName("Twilio Media Streams on /v1/twilio")
@Timeout(300)
class TwilioTest {
  private static final Duration WAIT = Duration.ofSeconds(40);
  private static final List<String> STORY = ScriptedOpenAiServer.STORY;
  private static final ScriptedOpenAiServer openAi = ScriptedOpenAiServer.startUnchecked();

  @RegisterExtension
  static final TestMesh mesh = TestMesh.with(openAi::agentSettings);

  @AfterAll
  static void stopOpenAi() throws Exception {
    openAi.close();
  }

  private static TwilioCall open(String query) throws Exception {
    return TwilioCall.open(mesh.clientVertx(), mesh.port(), query);
  }

  /** The session's logged events (each with its type), once {@code done} holds for them. */
  private static List<JsonObject> logged(String sessionId, Predicate<List<JsonObject>> done, String what) throws Exception {
    List<JsonObject> events = List.of();
    for (long end = System.nanoTime() + WAIT.toNanos(); System.nanoTime() < end; ) {
      events = mesh.query("SELECT event::text AS event FROM session_events WHERE session_id = $1 ORDER BY seq",
          UUID.fromString(sessionId)).stream().map(row -> new JsonObject((String) row.get("event"))).toList();
      if (done.test(events)) {
        return events;
      }
    }
    throw new AssertionError("the log of session " + sessionId + " never had " + what + ": "
        + events.stream().map(e -> e.getString("type")).toList());
  }

  private static Predicate<List<JsonObject>> has(String type, Predicate<JsonObject> match) {
    return events -> events.stream().anyMatch(e -> type.equals(e.getString("type")) && match.test(e));
  }

  private static List<String> types(List<JsonObject> events) {
    return events.stream().map(e -> e.getString("type")).toList();
  }

  /** The one session of {@code user}, once the call has opened it. */
  private static String sessionOf(String user) throws Exception {
    for (long end = System.nanoTime() + WAIT.toNanos(); System.nanoTime() < end; ) {
      List<Map<String, Object>> rows = mesh.query("SELECT id FROM sessions WHERE user_id = $1", user);
      if (!rows.isEmpty()) {
        return rows.get(0).get("id").toString();
      }
    }
    throw new AssertionError("no session for " + user);
  }

  /** RMS of PCM16LE audio. */
  private static double rms(byte[] pcm) {
    double sum = 0;
    for (int i = 0; i + 1 < pcm.length; i += 2) {
      short s = (short) ((pcm[i] & 0xFF) | (pcm[i + 1] << 8));
      sum += (double) s * s;
    }
    return Math.sqrt(sum / Math.max(1, pcm.length / 2));
  }

  @Test
  @DisplayName("a call on a session made with POST /api/v1/sessions: the answer as μ-law media for the stream, marks, DTMF, stop")
  void call() throws Exception {
    // What a webhook answering Twilio does: make the session, hand its id and session token to the stream.
    JsonObject created = new Rest(mesh.port()).post("/api/v1/sessions", mesh.token(TestMesh.USER),
        new JsonObject().put("agent", "default")).json();
    String sessionId = created.getString("sessionId");
    try (TwilioCall call = open("")) {
      call.start(Map.of("token", created.getString("token"), "sessionId", sessionId));
      call.say(Speech.concat(Speech.say("what time is it"), Speech.silence(1_500)));

      List<JsonObject> events = logged(sessionId, has("agent_completed", e -> true), "agent_completed");
      JsonObject completed = events.stream().filter(e -> "agent_completed".equals(e.getString("type"))).findFirst().orElseThrow();
      assertFalse(completed.getBoolean("interrupted"), completed.encode());
      long audioMs = events.stream().filter(e -> "audio.end".equals(e.getString("type"))).findFirst().orElseThrow()
          .getLong("audioMs");
      // The whole answer reaches the caller: as long as the log says, within the resampler's few ms.
      call.await(c -> Math.abs(c.agentAudioMs() - audioMs) <= 20, WAIT, "the answer's " + audioMs + " ms of audio");
      assertTrue(audioMs > 500, "a spoken answer: " + audioMs + " ms");
      assertTrue(rms(call.agentAudio()) > 300, "the answer's μ-law decodes to speech, not silence: rms " + rms(call.agentAudio()));
      List<JsonObject> received = call.received();
      assertTrue(received.stream().allMatch(m -> call.streamSid.equals(m.getString("streamSid"))), "every message names the stream");
      assertEquals(List.of("media", "mark"), received.stream().map(m -> m.getString("event")).distinct().toList(),
          "media and marks only (no clear: nothing interrupted)");
      assertEquals("mark", received.get(received.size() - 1).getString("event"), "a mark after the last audio");

      call.dtmf("5");
      logged(sessionId, has("dtmf", e -> "5".equals(e.getString("digit"))), "dtmf 5");

      call.stop();
      assertEquals(1000, (int) call.closed().get(WAIT.toSeconds(), TimeUnit.SECONDS), "the session ended, the stream closes");
      List<Map<String, Object>> session = mesh.query("SELECT status FROM sessions WHERE id = $1", UUID.fromString(sessionId));
      assertEquals("ended", session.get(0).get("status"));

      events = logged(sessionId, has("session.ended", e -> true), "session.ended");
      JsonObject said = events.stream().filter(e -> "user_message".equals(e.getString("type"))).findFirst().orElseThrow();
      assertTrue(said.getString("text").contains("time"), said.encode());
      JsonObject answer = events.stream().filter(e -> "agent_response".equals(e.getString("type"))).findFirst().orElseThrow();
      assertFalse(answer.getString("text").isBlank());
      EventOrder.assertInOrder(List.of("transcript.final", "user_message", "agent_started", "agent_response",
          "audio.end", "agent_completed", "dtmf", "session.ended"), types(events));
      EventOrder.check(events);
    }
  }

  @Test
  @DisplayName("barge-in: speech over the answer gets clear, and the heard text follows the marks Twilio echoed")
  void bargeIn() throws Exception {
    openAi.script(new Answer(List.of(String.join(" ", STORY))), new Answer(List.of("All right.")));
    String user = TestMesh.uniqueUser("twilio");
    try (TwilioCall call = open("?token=" + mesh.token(user))) {
      call.start(Map.of("agent", ScriptedOpenAiServer.AGENT));
      String sessionId = sessionOf(user);
      // The caller's playback stops at 600 ms: later marks are never echoed.
      call.echoMarksUpTo(600);
      call.say(Speech.concat(Speech.say("tell me a story"), Speech.silence(1_000)));
      call.await(c -> c.agentAudioMs() >= 3_000, WAIT, "3 s of the answer");
      call.say(Speech.say("stop please wait a moment"));

      JsonObject clear = call.awaitMessage("clear", WAIT);
      assertEquals(call.streamSid, clear.getString("streamSid"));
      List<JsonObject> events = logged(sessionId, has("agent_completed", e -> e.getBoolean("interrupted")),
          "an interrupted agent_completed");
      JsonObject completed = events.stream().filter(e -> "agent_completed".equals(e.getString("type"))).findFirst().orElseThrow();
      String heard = completed.getString("heardText");
      String story = String.join(" ", STORY);
      assertTrue(story.startsWith(heard), "heard: " + heard);
      // Sent: 3 s and more (about ten words); played, by the last mark echoed: 600 ms.
      assertTrue(heard.isEmpty() || heard.split(" ").length <= 4, "the heard text follows the echoed marks, not the audio sent: " + heard);
      EventOrder.assertInOrder(List.of("user_message", "audio.start", "speech_started", "audio.clear", "agent_completed"),
          types(events));
    }
  }

  @Test
  @DisplayName("bad input is logged and ignored: not JSON, media before start, bad base64, unknown events; the call goes on until stop and hang-up")
  void badInput() throws Exception {
    String user = TestMesh.uniqueUser("twilio-bad");
    try (TwilioCall call = open("")) {
      call.sendText("{not json");
      call.send(new JsonObject().put("event", "media").put("streamSid", call.streamSid)
          .put("media", new JsonObject().put("payload", "////")));
      call.start(Map.of("token", mesh.token(user)));
      String sessionId = sessionOf(user);
      call.sendText("[1, 2]");
      call.send(new JsonObject().put("event", "media").put("streamSid", call.streamSid)
          .put("media", new JsonObject().put("track", "inbound").put("payload", "%%% not base64")));
      call.send(new JsonObject().put("event", "media").put("streamSid", call.streamSid).put("media", "x"));
      call.send(new JsonObject().put("event", "no-such-event"));
      call.send(new JsonObject().put("event", "mark").put("streamSid", call.streamSid)
          .put("mark", new JsonObject().put("name", "never-sent")));
      call.send(new JsonObject().put("event", "dtmf").put("dtmf", new JsonObject().put("digit", "55")));
      call.sendBinary(new byte[] {1, 2, 3});

      call.say(Speech.concat(Speech.say("what time is it"), Speech.silence(1_500)));
      call.await(c -> c.agentAudioMs() > 500, WAIT, "the answer's audio");
      List<JsonObject> events = logged(sessionId, has("agent_completed", e -> true), "agent_completed");
      assertFalse(types(events).contains("dtmf"), "a bad digit is not logged");
      assertFalse(call.closed().isDone(), "the call goes on");

      call.hangUp();
      logged(sessionId, has("session.ended", e -> true), "session.ended after stop and an immediate close");
      assertEquals("ended", mesh.query("SELECT status FROM sessions WHERE id = $1", UUID.fromString(sessionId)).get(0).get("status"));
    }
  }

  @Test
  @DisplayName("refusals close the stream: no token (1008 unauthorized), an unknown agent (1008); a bad ?token= is refused before the upgrade")
  void refusals() throws Exception {
    try (TwilioCall call = open("")) {
      call.start(Map.of());
      assertEquals(1008, (int) call.closed().get(WAIT.toSeconds(), TimeUnit.SECONDS));
      assertEquals("unauthorized", call.closeReason());
    }
    try (TwilioCall call = open("")) {
      call.start(Map.of("token", mesh.token(TestMesh.USER), "agent", "no-such-agent"));
      assertEquals(1008, (int) call.closed().get(WAIT.toSeconds(), TimeUnit.SECONDS));
      assertEquals("agent_not_found", call.closeReason());
    }
    UpgradeRejectedException refused = assertThrows(UpgradeRejectedException.class, () -> open("?token=forged").close());
    assertEquals(401, refused.getStatus());
  }
}
