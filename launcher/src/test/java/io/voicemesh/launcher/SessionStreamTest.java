package io.voicemesh.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import io.voicemesh.launcher.ScriptedOpenAiServer.Answer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The agent event stream: gapless seq, the event log, resume with replay, listeners, controls. */
@DisplayName("The session event stream")
@Timeout(300)
class SessionStreamTest {
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final List<String> STORY = List.of(
      "Once upon a time a small boat sailed across the quiet sea.",
      "The sailor watched the stars and sang a song about the wind.",
      "At dawn the island appeared, green and bright above the waves.",
      "He tied the boat to an old tree and walked along the sand.");
  private static final ScriptedOpenAiServer openAi = ScriptedOpenAiServer.startUnchecked();

  @RegisterExtension
  static final TestMesh mesh = TestMesh.with(openAi::agentSettings);

  @AfterAll
  static void stopOpenAi() throws Exception {
    openAi.close();
  }

  @Test
  @DisplayName("a client dropped mid-answer reconnects to another gateway with its last seq and ends up with the "
      + "complete, gapless stream the event log holds")
  void resumeAfterDrop() throws Exception {
    openAi.script(new Answer(List.of(String.join(" ", STORY).split("(?<= )"))), new Answer(List.of("Hello to you.")));
    int otherGateway = mesh.startSecondGateway();
    String sessionId;
    List<JsonObject> before;
    long lastSeen;
    try (VoiceClient first = mesh.connect("agent=scripted")) {
      sessionId = first.sessionId();
      first.speak(Speech.say("tell me a story"), 1_000, 3).await(20, TimeUnit.SECONDS);
      first.await("audio.start", WAIT);
      first.close();
      first.closed().get(10, TimeUnit.SECONDS);
      before = first.sessionEvents();
      lastSeen = first.lastSeq();
    }
    assertTrue(before.stream().noneMatch(e -> "agent_completed".equals(e.getString("type"))),
        "the drop came in the middle of the answer: " + before);

    try (VoiceClient second = VoiceClient.connect(mesh.clientVertx(), otherGateway,
        "token=" + mesh.token(TestMesh.USER) + "&sessionId=" + sessionId + "&lastSeq=" + lastSeen)) {
      JsonObject ready = second.await("session.ready", WAIT);
      assertEquals("second-gateway", ready.getString("node"));
      assertTrue(ready.getBoolean("resumed"));
      JsonObject interrupted = second.await("agent_completed", WAIT);
      assertTrue(interrupted.getBoolean("interrupted"), "the dropped turn ended interrupted: " + interrupted);
      assertTrue(ready.getLong("replayed") > 0 && ready.getLong("lastSeq") >= interrupted.getLong("seq"),
          "the turn's end was replayed before session.ready: " + ready);

      // The session goes on from the new gateway.
      second.speak(Speech.say("hello there"), 1_000, 3).await(20, TimeUnit.SECONDS);
      second.awaitNth("agent_completed", 2, WAIT);
      long last = second.lastSeq();

      List<JsonObject> all = new ArrayList<>(before);
      all.addAll(second.sessionEvents());
      for (int i = 0; i < all.size(); i++) {
        assertEquals(i + 1, all.get(i).getLong("seq"), "gapless and in order: " + all.get(i));
      }
      assertEquals(last, all.size());
      // Events are sent first and stored in batches just after: the newest may still be on its way.
      List<Map<String, Object>> log = storedEvents(sessionId, all.size());
      assertEquals(all.size(), log.size(), "the log holds exactly what the client got");
      for (int i = 0; i < log.size(); i++) {
        assertEquals(new JsonObject((String) log.get(i).get("event")), withoutLocalFields(all.get(i)));
      }
    }
  }

  /** The session's logged events, once there are {@code expected} of them (or 10 s have passed). */
  private static List<Map<String, Object>> storedEvents(String sessionId, int expected) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (true) {
      List<Map<String, Object>> log = mesh.query(
          "SELECT seq, event::text AS event FROM session_events WHERE session_id = $1::uuid ORDER BY seq", sessionId);
      if (log.size() >= expected || System.nanoTime() > deadline) {
        return log;
      }
      TimeUnit.MILLISECONDS.sleep(50); // polling interval, bounded by the deadline
    }
  }

  @Test
  @DisplayName("a second speaker takes the session over: the first is told and closed, the sequence goes on")
  void takeover() throws Exception {
    try (VoiceClient first = mesh.connect("")) {
      String sessionId = first.sessionId();
      first.speakRealtime(Speech.say("what is nine times eight"), 1_200);
      first.await("agent_completed", WAIT);
      first.await("audio.end", WAIT);
      long firstLast = first.lastSeq();
      try (VoiceClient second = mesh.connect("sessionId=" + sessionId + "&lastSeq=" + firstLast)) {
        JsonObject ready = second.await("session.ready", WAIT);
        assertEquals(firstLast, ready.getLong("lastSeq"));
        assertEquals(0, ready.getLong("replayed"));
        assertEquals("taken_over", first.await("error", WAIT).getString("code"));
        assertEquals((short) 4409, first.closed().get(10, TimeUnit.SECONDS));
        second.speakRealtime(Speech.say("what is nine times eight"), 1_200);
        second.await("agent_completed", WAIT);
        assertEquals(firstLast + 1, second.sessionEvents().get(0).getLong("seq"), "the sequence goes on");
      }
    }
  }

  @Test
  @DisplayName("100 listeners of one session all get the same events in the same order, and the agent's audio")
  void hundredListeners() throws Exception {
    List<VoiceClient> listeners = new ArrayList<>();
    try (VoiceClient speaker = mesh.connect("")) {
      String sessionId = speaker.sessionId();
      String listen = "token=" + mesh.token(TestMesh.USER) + "&sessionId=" + sessionId + "&role=listener";
      for (int i = 0; i < 100; i++) {
        listeners.add(VoiceClient.connect(mesh.clientVertx(), mesh.port(), listen));
      }
      for (VoiceClient listener : listeners) {
        assertEquals("listener", listener.await("session.ready", WAIT).getString("role"));
      }
      JsonObject status = new Rest(mesh.port()).get("/api/v1/sessions/" + sessionId, mesh.token(TestMesh.USER)).json();
      assertEquals(101, status.getJsonArray("participants").size());

      speaker.speakRealtime(Speech.say("what is nine times eight"), 1_200);
      speaker.await("agent_completed", WAIT);
      speaker.await("audio.end", WAIT);
      long last = speaker.lastSeq();
      List<JsonObject> expected = speaker.sessionEvents().stream().map(SessionStreamTest::withoutLocalFields).toList();
      for (VoiceClient listener : listeners) {
        listener.await(e -> e.getLong("seq", 0L) == last, WAIT);
        assertEquals(expected, listener.sessionEvents().stream().map(SessionStreamTest::withoutLocalFields).toList());
        assertEquals(speaker.audio().length, listener.audio().length, "the agent's audio, whole");
      }

      // A listener may not steer the session.
      VoiceClient nosy = listeners.get(0);
      nosy.sendBinary(new byte[640]);
      assertEquals("forbidden", nosy.await("error", WAIT).getString("code"));
      nosy.send(new JsonObject().put("type", "input.commit"));
      assertEquals("forbidden", nosy.awaitNth("error", 2, WAIT).getString("code"));
      assertTrue(nosy.isOpen());
      assertTrue(nosy.events("error").stream().noneMatch(e -> e.containsKey("seq")), "refusals are not session events");

      // A listener that comes later with lastSeq=0 gets the whole history first.
      try (VoiceClient late = VoiceClient.connect(mesh.clientVertx(), mesh.port(), listen + "&lastSeq=0")) {
        late.await(e -> e.getLong("seq", 0L) == last, WAIT);
        assertEquals(expected, late.sessionEvents().stream().map(SessionStreamTest::withoutLocalFields).toList());
      }
    } finally {
      for (VoiceClient listener : listeners) {
        listener.close();
      }
    }
  }

  @Test
  @DisplayName("pause ignores audio, mute holds back agent audio but not events, session.status reports it")
  void controls() throws Exception {
    try (VoiceClient client = mesh.connect("")) {
      client.sessionId();
      client.send(new JsonObject().put("type", "control").put("action", "pause"));
      client.speak(Speech.say("hello there"), 1_000, 3).await(20, TimeUnit.SECONDS);
      client.send(new JsonObject().put("type", "ping").put("id", 1));
      client.await("pong", WAIT);
      client.send(new JsonObject().put("type", "session.status"));
      JsonObject paused = client.await("session.status", WAIT);
      assertTrue(paused.getBoolean("paused"), paused.encode());

      client.send(new JsonObject().put("type", "control").put("action", "resume"));
      client.send(new JsonObject().put("type", "control").put("action", "mute"));
      client.speakRealtime(Speech.say("what is nine times eight"), 1_200);
      client.await("agent_completed", WAIT);
      client.await("audio.end", WAIT);
      List<JsonObject> finals = client.events("transcript.final");
      assertEquals(1, finals.size(), "the words spoken while paused were ignored: " + finals);
      assertFalse(finals.get(0).getString("text").contains("hello"), finals.toString());
      assertEquals(0, client.audio().length, "muted: no agent audio");
      assertEquals(1, client.events("audio.start").size(), "muted: the audio events still come");

      client.send(new JsonObject().put("type", "control").put("action", "unmute"));
      client.speakRealtime(Speech.say("what is nine times eight"), 1_200);
      client.awaitNth("audio.end", 2, WAIT);
      assertTrue(client.audio().length > 0, "unmuted: the agent is heard again");
      // agent_completed follows audio.end once the answer is stored: the status below must come after it.
      client.awaitNth("agent_completed", 2, WAIT);

      client.send(new JsonObject().put("type", "session.status"));
      JsonObject status = client.awaitNth("session.status", 2, WAIT);
      assertEquals("active", status.getString("state"));
      assertEquals(2, status.getInteger("turns"));
      assertFalse(status.getBoolean("paused"));
      assertFalse(status.getBoolean("muted"));
      assertEquals(client.lastSeq(), status.getLong("lastSeq"), status.encode());
      assertEquals(1, status.getJsonArray("participants").size());
    }
  }

  /** The event as the server sent it: without what the test client added. */
  private static JsonObject withoutLocalFields(JsonObject event) {
    JsonObject copy = event.copy();
    copy.remove("_receivedAt");
    return copy;
  }
}
