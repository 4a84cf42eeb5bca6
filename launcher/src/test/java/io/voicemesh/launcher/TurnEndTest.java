package io.voicemesh.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import io.voicemesh.api.audio.Pcm16;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The end of a turn decided from what was said, with the default settings, real speech (FreeTTS)
 * streamed at real time and the real recognizer (Vosk): a pause after "and" keeps the turn open,
 * a complete question ends it soon after the speech stops.
 */
@DisplayName("End of turn from the words")
@Timeout(180)
class TurnEndTest {
  private static final Duration WAIT = Duration.ofSeconds(30);
  /** The acceptance bound: a complete question's turn ends this soon after its speech stops. */
  private static final long TURN_END_MS = 350;
  /** What a loaded 2-core machine may add between the decision and its arrival at the client. */
  private static final long ARRIVAL_SLACK_MS = 300;
  private static final int LEAD_SILENCE_MS = 300;

  @RegisterExtension
  static final TestMesh mesh = TestMesh.withDefaults();

  @Test
  @DisplayName("a question with a 600 ms pause after 'and' stays one user turn")
  void pauseAfterAndIsOneTurn() throws Exception {
    try (VoiceClient client = mesh.connect("")) {
      client.sessionId();
      // 600 ms from the last voiced frame of "and" to the first of "what".
      byte[] speech = Speech.concat(Speech.silence(LEAD_SILENCE_MS), Speech.voiced(Speech.say("what is twelve times seven and")),
          Speech.silence(600), Speech.voiced(Speech.say("what time is it")));
      client.speakRealtime(speech, 1_500);
      client.await("agent_completed", WAIT);

      List<JsonObject> messages = client.events("user_message");
      assertEquals(1, messages.size(), "one user turn: " + messages);
      String said = messages.get(0).getString("text");
      // Vosk hears the "and" as "and" or "am" (a continuation too, as "I am ..."), and "what" as "while".
      assertTrue(said.contains("seven") && said.endsWith("time is it"), "both parts in the one turn: " + said);
      assertEquals(1, client.events("transcript.final").stream().filter(f -> !f.getString("text").isBlank()).count(),
          "one transcript: " + client.events("transcript.final"));
    }
  }

  @Test
  @DisplayName("a 600 ms pause after a continuation word the recognizer mishears ('um' as 'arm', 'plus' as 'last') stays one user turn")
  void pauseAfterMisheardContinuationIsOneTurn() throws Exception {
    // Vosk's best reading of each first part ends on a complete-sounding word; another reading it
    // holds ends on "on" or "plus", and that keeps the turn open.
    for (String[] utterance : List.of(new String[] {"i was thinking um", "what time is it"},
        new String[] {"what is ten plus", "five"})) {
      try (VoiceClient client = mesh.connect("")) {
        client.sessionId();
        client.speakRealtime(Speech.concat(Speech.silence(LEAD_SILENCE_MS), Speech.voiced(Speech.say(utterance[0])),
            Speech.silence(600), Speech.voiced(Speech.say(utterance[1]))), 1_500);
        client.await("agent_completed", WAIT);
        List<JsonObject> messages = client.events("user_message");
        assertEquals(1, messages.size(), String.join(" ... ", utterance) + ": one user turn: " + messages);
        assertTrue(messages.get(0).getString("text").endsWith(utterance[1].equals("five") ? "five" : "is it"),
            "both parts in the one turn: " + messages);
      }
    }
  }

  @Test
  @DisplayName("a complete question the recognizer is unsure how to word ('date today' or 'day to day') still ends within 350 ms")
  void unsureWordingOfCompleteQuestionEndsSoon() throws Exception {
    try (VoiceClient client = mesh.connect("")) {
      client.sessionId();
      Ended ended = ask(client, "what is the date today");
      // Vosk reads it "what is the day today" or "... day to day": unsure of the words, but every
      // reading is complete (the rule before waited the maximum on such a question).
      assertTrue(ended.afterMs() > 0 && ended.afterMs() <= TURN_END_MS, "\"" + ended.fin().getString("text")
          + "\" ended " + ended.afterMs() + " ms of audio after the speech stopped");
      client.await("agent_completed", WAIT);
    }
  }

  @Test
  @DisplayName("a complete question's turn ends within 350 ms of the end of its speech")
  void completeQuestionEndsSoon() throws Exception {
    try (VoiceClient client = mesh.connect("")) {
      client.sessionId();
      Ended ended = ask(client, "what is nine times eight");
      JsonObject fin = ended.fin();
      assertTrue(fin.getString("text").contains("nine times eight"), fin.encode());
      assertEquals("9 times 8 is 72.", client.await("agent_response", WAIT).getString("text"));

      // In the audio: where the turn ended against where the speech did (no machine load in it).
      long endedAfterMs = ended.afterMs();
      // At the client: when transcript.final arrived against when the last voiced frame was sent.
      long arrivedAfterMs = (fin.getLong("_receivedAt") - client.sentAt(ended.speechEndMs())) / 1_000_000;
      System.out.printf("turn end: %d ms of audio after the speech, transcript.final arrived %d ms after its last "
          + "voiced frame was sent%n", endedAfterMs, arrivedAfterMs);
      assertTrue(endedAfterMs > 0 && endedAfterMs <= TURN_END_MS, "the turn ended " + endedAfterMs
          + " ms of audio after the speech stopped");
      assertTrue(arrivedAfterMs <= TURN_END_MS + ARRIVAL_SLACK_MS, "transcript.final arrived " + arrivedAfterMs
          + " ms after the speech stopped");
      assertEquals(1, client.events("user_message").size());
    }
  }

  @Test
  @DisplayName("a client that stops sending while its words still wait for more (after \"and\") gets its turn once no audio came for the longest silence")
  void clientThatStopsSending() throws Exception {
    try (VoiceClient client = mesh.connect("")) {
      client.sessionId();
      // 300 ms of silence after "and", then nothing at all: the recognizer alone would wait for 1200 ms of it.
      client.speakRealtime(Speech.concat(Speech.silence(LEAD_SILENCE_MS),
          Speech.voiced(Speech.say("what is twelve times seven and"))), 300);
      long stoppedAt = System.nanoTime();
      JsonObject fin = client.await("transcript.final", WAIT);
      long afterMs = (fin.getLong("_receivedAt") - stoppedAt) / 1_000_000;
      System.out.printf("turn committed %d ms after the client stopped sending%n", afterMs);
      // Vosk hears FreeTTS's "twelve times seven and" as "... seven and" or "... seven am".
      assertTrue(fin.getString("text").contains("seven"), "the words said: " + fin.encode());
      assertTrue(afterMs >= 1_200, "not before the longest silence could have passed: " + afterMs + " ms");
      client.await("agent_completed", WAIT);
    }
  }

  @Test
  @DisplayName("session.update silenceMs brings back the fixed silence for that session: a 600 ms pause ends its turn")
  void fixedSilencePerSession() throws Exception {
    try (VoiceClient fixed = mesh.connect("")) {
      fixed.sessionId();
      fixed.send(new JsonObject().put("type", "session.update").put("silenceMs", 500));
      JsonObject updated = fixed.await("session.updated", WAIT);
      assertEquals("off", updated.getString("eagerness"));
      assertEquals(500, updated.getInteger("minSilenceMs"));
      assertEquals(500, updated.getInteger("maxSilenceMs"));
      byte[] first = Speech.voiced(Speech.say("what is twelve times seven and"));
      long firstEndMs = LEAD_SILENCE_MS + lastVoicedEndMs(first);
      fixed.speak(Speech.concat(Speech.silence(LEAD_SILENCE_MS), first, Speech.silence(600),
          Speech.voiced(Speech.say("what time is it"))), 1_500, 2).await(30, java.util.concurrent.TimeUnit.SECONDS);
      fixed.awaitNth("agent_completed", 2, WAIT);
      List<JsonObject> messages = fixed.events("user_message");
      assertEquals(2, messages.size(), "silence alone split the question: " + messages);
      assertTrue(messages.get(0).getString("text").contains("seven")
          && messages.get(1).getString("text").endsWith("time is it"), messages.toString());
      long endedAfterMs = fixed.events("transcript.final").get(0).getLong("audioMs") - firstEndMs;
      assertTrue(endedAfterMs >= 500 && endedAfterMs <= 600, "ended after the session's 500 ms: " + endedAfterMs);
    }
  }

  /** A turn's first transcript with words; where its speech ended and how many ms of audio after that the turn did. */
  private record Ended(JsonObject fin, long speechEndMs, long afterMs) {
  }

  /** Says {@code question} at real time after the lead silence and waits for its transcript. */
  private static Ended ask(VoiceClient client, String question) throws Exception {
    byte[] speech = Speech.say(question);
    long speechEndMs = LEAD_SILENCE_MS + lastVoicedEndMs(speech);
    client.speakRealtime(Speech.concat(Speech.silence(LEAD_SILENCE_MS), speech), 1_500);
    JsonObject fin = client.await(e -> "transcript.final".equals(e.getString("type"))
        && !e.getString("text").isBlank(), WAIT);
    return new Ended(fin, speechEndMs, fin.getLong("audioMs") - speechEndMs);
  }

  /** Where the last 20 ms frame louder than -40 dBFS ends: the end of speech, as a listener hears it. */
  static long lastVoicedEndMs(byte[] pcm) {
    int frame = Pcm16.bytesFor(Pcm16.DEFAULT_RATE_HZ, VoiceClient.FRAME_MS);
    long end = -1;
    for (int offset = 0; offset + frame <= pcm.length; offset += frame) {
      if (Pcm16.rmsDbfs(pcm, offset, frame) > -40) {
        end = Pcm16.msFor(Pcm16.DEFAULT_RATE_HZ, offset + frame);
      }
    }
    if (end < 0) {
      throw new IllegalArgumentException("no speech in the recording");
    }
    return end;
  }
}
