package io.voicemesh.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import io.voicemesh.api.audio.Pcm16;
import java.time.Duration;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Set;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

@DisplayName("A voice turn through the all-in-one mesh")
@Timeout(180)
class VoiceTurnTest {
  private static final Duration TURN = Duration.ofSeconds(30);
  @RegisterExtension
  static final TestMesh mesh = TestMesh.withDefaults();

  @Test
  @DisplayName("spoken 'what time is it' is transcribed, answered with the time in speech, and stored")
  void speakAndHearTheAnswer() throws Exception {
    try (VoiceClient client = mesh.connect("")) {
      String sessionId = client.sessionId();
      client.speakRealtime(Speech.say("what time is it"), 1200);

      JsonObject fin = client.await("transcript.final", TURN);
      assertTrue(fin.getString("text").contains("time"), "transcript: " + fin);
      JsonObject answer = client.await("agent_response", TURN);
      assertAnswerIsTheTimeNow(answer.getString("text"));
      JsonObject completed = client.await("agent_completed", TURN);
      assertFalse(completed.getBoolean("interrupted"));
      client.await("audio.end", TURN);

      byte[] audio = client.audio();
      assertTrue(Pcm16.msFor(Pcm16.DEFAULT_RATE_HZ, audio.length) >= 500, "agent audio bytes: " + audio.length);
      List<long[]> frames = client.audioArrivals();
      for (int i = 0; i < frames.size(); i++) {
        long size = frames.get(i)[1] - (i == 0 ? 0 : frames.get(i - 1)[1]);
        assertTrue(size > 0 && size <= Pcm16.bytesFor(Pcm16.DEFAULT_RATE_HZ, 100) && size % 2 == 0,
            "agent audio comes in PCM16 chunks of at most 100 ms; frame " + i + " has " + size + " bytes");
      }
      String heard = Speech.transcribe(audio);
      assertTrue(heard.contains("time"), "the agent's audio, transcribed: " + heard);

      assertEquals(List.of("get_current_time"), client.events("tool_executing").stream().map(e -> e.getString("name")).toList());
      assertEquals(client.events("tool_executing").get(0).getString("callId"),
          client.events("tool_completed").get(0).getString("callId"));
      assertTrue(client.events("tool_completed").get(0).getJsonObject("result").getString("time") != null);

      assertEventEnvelopes(client.events(), sessionId);
      assertOrder(client.events(), "session.ready", "transcript.final", "user_message", "agent_started",
          "tool_executing", "tool_completed", "agent_response.delta", "agent_response", "agent_completed");
      assertOrder(client.events(), "agent_started", "audio.start", "audio.end", "agent_completed");

      List<Map<String, Object>> sessions = mesh.query("SELECT status, agent FROM sessions WHERE id = $1",
          UUID.fromString(sessionId));
      assertEquals(1, sessions.size());
      assertEquals("active", sessions.get(0).get("status"));
      List<Map<String, Object>> messages = mesh.query(
          "SELECT role, text FROM messages WHERE session_id = $1 ORDER BY id", UUID.fromString(sessionId));
      assertEquals(2, messages.size(), "stored messages: " + messages);
      assertEquals("user", messages.get(0).get("role"));
      assertEquals(fin.getString("text"), messages.get(0).get("text"));
      assertEquals("assistant", messages.get(1).get("role"));
      assertEquals(answer.getString("text"), messages.get(1).get("text"));
    }
    assertEquals(List.of(), mesh.blockedThreadWarnings(),
        "no event loop may be blocked for more than " + TestMesh.MAX_EVENT_LOOP_MS + " ms");
  }

  @Test
  @DisplayName("input.commit ends the turn at once, without waiting for the silence")
  void commitEndsTheTurn() throws Exception {
    try (VoiceClient client = mesh.connect("")) {
      client.sessionId();
      client.speak(Speech.say("what is nine times eight"), 100, 2).await(20, TimeUnit.SECONDS);
      client.send(new JsonObject().put("type", "input.commit"));
      JsonObject fin = client.await("transcript.final", TURN);
      assertTrue(fin.getString("text").contains("nine times eight"), fin.encode());
      assertEquals("9 times 8 is 72.", client.await("agent_response", TURN).getString("text"));
      long stoppedAt = client.events("speech_stopped").get(0).getLong("audioMs");
      assertTrue(stoppedAt >= client.sentAudioMs() - VoiceClient.FRAME_MS,
          "speech ended at the commit (" + stoppedAt + " ms), not after a silence, with " + client.sentAudioMs() + " ms sent");
    }
  }

  @Test
  @DisplayName("two concurrent sessions never mix transcripts or audio")
  void concurrentSessionsStayApart() throws Exception {
    try (VoiceClient time = mesh.connect(""); VoiceClient sum = mesh.connect("")) {
      time.sessionId();
      sum.sessionId();
      var a = time.speak(Speech.say("what time is it"), 1200, 1.0);
      var b = sum.speak(Speech.say("what is nine times eight"), 1200, 1.0);
      a.await(30, java.util.concurrent.TimeUnit.SECONDS);
      b.await(30, java.util.concurrent.TimeUnit.SECONDS);

      String timeText = time.await("transcript.final", TURN).getString("text");
      String sumText = sum.await("transcript.final", TURN).getString("text");
      assertTrue(timeText.contains("time") && !timeText.contains("nine"), timeText);
      assertTrue(sumText.contains("nine times eight") && !sumText.contains("time is"), sumText);
      assertAnswerIsTheTimeNow(time.await("agent_response", TURN).getString("text"));
      assertEquals("9 times 8 is 72.", sum.await("agent_response", TURN).getString("text"));
      time.await("agent_completed", TURN);
      sum.await("agent_completed", TURN);

      String timeHeard = Speech.transcribe(time.audio());
      String sumHeard = Speech.transcribe(sum.audio());
      // Not "seventy": between 7:00 and 7:59 the time itself ("seven oh three") can be heard as "seventy three".
      assertTrue(timeHeard.contains("time") && !timeHeard.contains("times eight"), "time session heard: " + timeHeard);
      assertTrue(sumHeard.contains("seventy") && !sumHeard.contains("time is"), "sum session heard: " + sumHeard);
      assertTrue(time.events().stream().allMatch(e -> e.getString("sessionId").equals(time.events().get(0).getString("sessionId"))));
      assertTrue(sum.events().stream().allMatch(e -> e.getString("sessionId").equals(sum.events().get(0).getString("sessionId"))));
    }
  }

  /** "The time is h:mm AM." within a minute of now, in the JVM's zone (the builtin agent's default). */
  static void assertAnswerIsTheTimeNow(String answer) {
    Matcher m = Pattern.compile("The time is (\\d{1,2}:\\d{2} [AP]M)\\.").matcher(answer);
    assertTrue(m.matches(), "answer: " + answer);
    LocalTime said = LocalTime.parse(m.group(1), DateTimeFormatter.ofPattern("h:mm a", Locale.US));
    long minutes = Math.abs(Duration.between(said, LocalTime.now().withSecond(0).withNano(0)).toMinutes());
    assertTrue(minutes <= 1 || minutes >= 24 * 60 - 1, "said " + said + ", now " + LocalTime.now());
  }

  /**
   * Every frame has type, sessionId and ts; the session events among them (those with a seq) count
   * 1, 2, 3, … with no gap; replies to the connection (session.ready, pong, …) carry no seq.
   */
  static void assertEventEnvelopes(List<JsonObject> events, String sessionId) {
    long expected = 1;
    for (JsonObject e : events) {
      assertEquals(sessionId, e.getString("sessionId"), "sessionId of " + e);
      assertTrue(e.getString("type") != null && e.getLong("ts") > 0, "envelope of " + e);
      if (e.containsKey("seq")) {
        assertEquals(expected++, e.getLong("seq"), "seq of " + e);
      } else {
        assertTrue(Set.of("session.ready", "session.updated", "session.status", "pong", "error")
            .contains(e.getString("type")), "only replies go without seq: " + e);
      }
    }
    assertTrue(expected > 1, "some session events");
  }

  /** The first occurrence of each type comes in the given order. */
  static void assertOrder(List<JsonObject> events, String... types) {
    int last = -1;
    for (String type : types) {
      int at = -1;
      for (int i = 0; i < events.size(); i++) {
        if (type.equals(events.get(i).getString("type"))) {
          at = i;
          break;
        }
      }
      assertTrue(at > last, type + " out of order in " + events.stream().map(e -> e.getString("type")).toList());
      last = at;
    }
  }
}
