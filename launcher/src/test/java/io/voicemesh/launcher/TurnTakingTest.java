package io.voicemesh.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.voicemesh.api.audio.Pcm16;
import io.voicemesh.launcher.ScriptedOpenAiServer.Answer;
import io.voicemesh.launcher.ScriptedOpenAiServer.ScriptedCall;
import io.voicemesh.launcher.ScriptedOpenAiServer.ToolCalls;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Turn-taking with real audio through real engines: noise, barge-in, coughs, tool calls. */
@DisplayName("Turn-taking")
@Timeout(180)
class TurnTakingTest {
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final int MIN_SPEECH_MS = 300;
  private static final List<String> STORY = ScriptedOpenAiServer.STORY;

  private static final ScriptedOpenAiServer openAi = ScriptedOpenAiServer.startUnchecked();

  /** A tool served by another service on the bus; the agent knows it by its spec. */
  private static final Map<String, Object> SLOW_LOOKUP = Map.of("name", "slow_lookup",
      "description", "Looks up an order; takes a while.",
      "parameters", Map.of("type", "object", "properties", Map.of("order", Map.of("type", "string")),
          "required", List.of("order")));

  @RegisterExtension
  static final TestMesh mesh = TestMesh.with(() -> Map.of(
      "voicemesh.gateway.minSpeechMs", MIN_SPEECH_MS,
      "voicemesh.llm.agents.scripted.engine", "openai",
      "voicemesh.llm.agents.scripted.baseUrl", openAi.baseUrl(),
      "voicemesh.llm.agents.scripted.model", "test-model",
      "voicemesh.llm.agents.scripted.tools", List.of("calculate", SLOW_LOOKUP)));

  @AfterAll
  static void stopOpenAi() throws Exception {
    openAi.close();
  }

  @Test
  @DisplayName("five seconds of low steady noise is neither speech nor a turn")
  void steadyNoise() throws Exception {
    try (VoiceClient client = mesh.connect("")) {
      client.sessionId();
      byte[] phrase = Speech.say("what is nine times eight");
      client.speak(Speech.concat(Speech.noise(5_000, -45, 1), phrase), 1_000, 3).await(20, TimeUnit.SECONDS);
      // The phrase after the noise is processed in order after it: its turn proves the noise was heard out.
      client.await("agent_completed", WAIT);
      List<JsonObject> started = client.events("speech_started");
      assertEquals(1, started.size(), "only the phrase is speech: " + started);
      assertTrue(started.get(0).getLong("audioMs") > 5_000, "speech began after the noise: " + started);
      assertEquals(1, client.events("user_message").size());
      String heard = client.events("transcript.final").get(0).getString("text");
      assertTrue(heard.contains("nine times eight"), "the noise did not bleed into the transcript: " + heard);
    }
  }

  @Test
  @DisplayName("barge-in stops the agent's audio within 150 ms of the threshold and keeps only the words heard")
  void bargeIn() throws Exception {
    openAi.script(new Answer(pieces(STORY)), new Answer(List.of("Sure.")));
    int requestsBefore = openAi.requests().size();
    try (VoiceClient client = mesh.connect("agent=scripted")) {
      String sessionId = client.sessionId();
      client.speak(Speech.say("what time is it"), 1_000, 3).await(20, TimeUnit.SECONDS);
      String turnId = client.await("audio.start", WAIT).getString("turnId");

      // Let the first sentence play out whole, then talk over the second.
      long firstSentenceBytes = Speech.say(STORY.get(0)).length;
      awaitAudio(client, firstSentenceBytes + Pcm16.bytesFor(Pcm16.DEFAULT_RATE_HZ, 700));
      byte[] interruption = Speech.say("what is nine times eight");
      long onsetAt = client.sentAudioMs() + Speech.onsetMs(interruption);
      client.speak(interruption, 1_000, 1).await(20, TimeUnit.SECONDS);

      JsonObject clear = client.await("audio.clear", WAIT);
      assertEquals(turnId, clear.getString("turnId"));
      JsonObject completed = client.await(e -> "agent_completed".equals(e.getString("type"))
          && turnId.equals(e.getString("turnId")), WAIT);
      assertTrue(completed.getBoolean("interrupted"), completed.encode());

      JsonObject started = client.events("speech_started").get(1);
      long thresholdAt = client.sentAt(started.getLong("audioMs"));
      assertTrue(started.getLong("audioMs") - onsetAt <= MIN_SPEECH_MS + 100,
          "speech confirmed " + (started.getLong("audioMs") - onsetAt) + " ms after its onset");
      List<long[]> arrivals = client.audioArrivals();
      long lastFrameAt = arrivals.stream().mapToLong(a -> a[0]).filter(t -> t < clearArrival(client, arrivals)).max().orElseThrow();
      long lateMs = (lastFrameAt - thresholdAt) / 1_000_000;
      System.out.printf("barge-in: last agent audio frame %d ms after the speech threshold%n", lateMs);
      assertTrue(lateMs <= 150, "agent audio went on " + lateMs + " ms after the barge-in threshold");

      // What was stored is the sentences whose audio was wholly delivered and the words of the next
      // one that were: never a word of a sentence whose audio was not reached.
      long delivered = arrivals.stream().filter(a -> a[0] <= lastFrameAt).mapToLong(a -> a[1]).max().orElseThrow();
      int whole = 0;
      long end = 0;
      while (whole < STORY.size() && (end += Speech.say(STORY.get(whole)).length) <= delivered) {
        whole++;
      }
      assertTrue(whole >= 1 && whole < STORY.size(), "heard " + whole + " of " + STORY.size() + " sentences");
      String expected = completed.getString("heardText");
      String wholeSentences = String.join(" ", STORY.subList(0, whole));
      assertTrue(isWordPrefix(expected, String.join(" ", STORY.subList(0, whole + 1))) && expected.startsWith(wholeSentences),
          "heard '" + expected + "' after " + whole + " whole sentences");
      List<Map<String, Object>> stored = mesh.query(
          "SELECT text FROM messages WHERE session_id = $1 AND role = 'assistant' ORDER BY id", UUID.fromString(sessionId));
      assertEquals(expected, stored.get(0).get("text"));

      // The next request to the model carries the truncated answer, never the unheard rest.
      client.awaitNth("agent_completed", 2, WAIT);
      JsonArray messages = openAi.requests().get(requestsBefore + 1).getJsonArray("messages");
      String history = messages.encode();
      assertTrue(history.contains(expected), history);
      assertFalse(whole + 1 < STORY.size() && history.contains(STORY.get(whole + 1)), "the unheard sentence was not sent: " + history);
      assertEquals("assistant", messages.getJsonObject(messages.size() - 2).getString("role"));
      assertEquals(expected, messages.getJsonObject(messages.size() - 2).getString("content"));
    }
  }

  @Test
  @DisplayName("response.cancel stops the agent, and playback marks decide what was heard, to the word")
  void cancelWithPlaybackMarks() throws Exception {
    openAi.script(new Answer(pieces(STORY)));
    try (VoiceClient client = mesh.connect("agent=scripted")) {
      String sessionId = client.sessionId();
      client.speak(Speech.say("what time is it"), 1_000, 3).await(20, TimeUnit.SECONDS);
      String turnId = client.await("audio.start", WAIT).getString("turnId");
      long firstSentenceMs = Pcm16.msFor(Pcm16.DEFAULT_RATE_HZ, Speech.say(STORY.get(0)).length);
      awaitAudio(client, Pcm16.bytesFor(Pcm16.DEFAULT_RATE_HZ, (int) firstSentenceMs + 700));
      // The first sentence was delivered whole, but the client says it played only part of it.
      client.send(new JsonObject().put("type", "playback.mark").put("turnId", turnId).put("ms", firstSentenceMs - 300));
      client.send(new JsonObject().put("type", "response.cancel"));
      JsonObject completed = client.await("agent_completed", WAIT);
      assertTrue(completed.getBoolean("interrupted"));
      String heard = completed.getString("heardText");
      assertTrue(!heard.isEmpty() && isWordPrefix(heard, STORY.get(0)) && heard.length() < STORY.get(0).length(),
          "the words of the first sentence played before the mark: '" + heard + "'");
      client.await("audio.clear", WAIT);
      assertEquals(List.of(Map.of("text", heard)), mesh.query(
          "SELECT text FROM messages WHERE session_id = $1 AND role = 'assistant'", UUID.fromString(sessionId)),
          "only what was played is stored");
    }
  }

  @Test
  @DisplayName("session.update changes the minimum speech length of this session only")
  void perSessionSettings() throws Exception {
    try (VoiceClient strict = mesh.connect(""); VoiceClient normal = mesh.connect("")) {
      strict.sessionId();
      normal.sessionId();
      strict.send(new JsonObject().put("type", "session.update").put("minSpeechMs", 2_000));
      assertEquals(2_000, strict.await("session.updated", WAIT).getInteger("minSpeechMs"));
      byte[] phrase = Speech.say("what time is it");
      strict.speak(phrase, 1_000, 2).await(20, TimeUnit.SECONDS);
      normal.speak(phrase, 1_000, 2).await(20, TimeUnit.SECONDS);
      normal.await("agent_completed", WAIT);
      // The same words are speech for one session and too short to count for the other. The STT
      // worker handles a commit after all audio before it: its transcript.final is the barrier.
      strict.send(new JsonObject().put("type", "input.commit"));
      assertEquals("", strict.await("transcript.final", WAIT).getString("text"), "sub-threshold sound was dropped");
      assertEquals(1, normal.events("speech_started").size());
      assertEquals(List.of(), strict.events("speech_started"));
      assertEquals(List.of(), strict.events("user_message"));
    }
  }

  @Test
  @DisplayName("a 150 ms cough while the agent speaks does not interrupt it")
  void coughDoesNotInterrupt() throws Exception {
    openAi.script(new Answer(pieces(STORY.subList(0, 2))));
    try (VoiceClient client = mesh.connect("agent=scripted")) {
      client.sessionId();
      talkOverTheAnswer(client, Speech.concat(Speech.cough(150, -12), Speech.silence(200)));
      awaitWholeAnswer(client);
      assertEquals(1, client.events("speech_started").size(), "only the question was speech");
      assertEquals(1, client.events("user_message").size());
    }
  }

  @Test
  @DisplayName("\"yeah\" said while the agent speaks pauses the answer but does not interrupt it; it is logged as a backchannel")
  void backchannelDoesNotInterrupt() throws Exception {
    openAi.script(new Answer(pieces(STORY.subList(0, 2))));
    try (VoiceClient client = mesh.connect("agent=scripted")) {
      String sessionId = client.sessionId();
      // The synthetic "yeah" is 0.2 s of voice: this session counts that as speech.
      client.send(new JsonObject().put("type", "session.update").put("minSpeechMs", 150));
      client.await("session.updated", WAIT);
      String turnId = talkOverTheAnswer(client, Speech.say("yeah"));
      JsonObject backchannel = client.await("user_backchannel", WAIT);
      assertEquals(turnId, backchannel.getString("turnId"));
      awaitWholeAnswer(client);
      assertEquals(2, client.events("speech_started").size(), "the question, then the acknowledgement");
      assertEquals(1, client.events("user_message").size(), "the acknowledgement is no turn: " + client.events("user_message"));
      System.out.printf("backchannel heard as \"%s\"%n", backchannel.getString("text"));
      assertEquals(List.of("user_backchannel"), mesh.query("SELECT type FROM session_events WHERE session_id = $1"
          + " AND type = 'user_backchannel'", UUID.fromString(sessionId)).stream().map(r -> r.get("type")).toList(),
          "logged");
    }
  }

  @Test
  @DisplayName("a 600 ms cough while the agent speaks pauses the answer, which then goes on where it stopped")
  void falseInterruptionResumes() throws Exception {
    openAi.script(new Answer(pieces(STORY.subList(0, 2))));
    try (VoiceClient client = mesh.connect("agent=scripted")) {
      client.sessionId();
      // Long and loud enough to count as speech (minSpeechMs 300): it pauses the answer.
      talkOverTheAnswer(client, Speech.concat(Speech.cough(600, -6), Speech.silence(200)));
      awaitWholeAnswer(client);
      assertEquals(2, client.events("speech_started").size(), "the cough was taken for speech: it paused the answer");
      assertEquals(client.await("audio.end", WAIT).getLong("audioMs"), Pcm16.msFor(Pcm16.DEFAULT_RATE_HZ, client.audio().length),
          "the answer's audio, all of it and none twice");
      assertEquals(1, client.events("user_message").size());
    }
  }

  @Test
  @DisplayName("a streamed tool call with its arguments in pieces runs once, pairs its events, and feeds the answer")
  void streamedToolCall() throws Exception {
    openAi.script(new ToolCalls(List.of(new ScriptedCall("call_1", "calculate",
            List.of("{\"a\":", " 12, \"op\": \"tim", "es\", \"b\": 7}")))),
        new Answer(List.of("12 times 7", " is 84.")));
    int before = openAi.requests().size();
    try (VoiceClient client = mesh.connect("agent=scripted")) {
      client.sessionId();
      client.speak(Speech.say("what time is it"), 1_000, 3).await(20, TimeUnit.SECONDS);
      JsonObject completed = client.await("agent_completed", WAIT);
      assertFalse(completed.containsKey("error"), completed.encode());

      List<JsonObject> executing = client.events("tool_executing");
      List<JsonObject> toolDone = client.events("tool_completed");
      assertEquals(1, executing.size(), executing.toString());
      assertEquals(1, toolDone.size(), toolDone.toString());
      assertEquals("call_1", executing.get(0).getString("callId"));
      assertEquals(new JsonObject().put("a", 12).put("op", "times").put("b", 7), executing.get(0).getJsonObject("arguments"));
      assertEquals("call_1", toolDone.get(0).getString("callId"));
      assertEquals("84", toolDone.get(0).getJsonObject("result").getString("result"));
      JsonObject answer = client.await("agent_response", WAIT);
      assertEquals("12 times 7 is 84.", answer.getString("text"));
      assertTrue(executing.get(0).getLong("seq") < toolDone.get(0).getLong("seq")
          && toolDone.get(0).getLong("seq") < answer.getLong("seq"), "tool events come first, in order");

      JsonObject first = openAi.requests().get(before);
      assertEquals(List.of("calculate", "slow_lookup"), first.getJsonArray("tools").stream()
          .map(t -> ((JsonObject) t).getJsonObject("function").getString("name")).toList());
      JsonArray messages = openAi.requests().get(before + 1).getJsonArray("messages");
      JsonObject call = messages.getJsonObject(messages.size() - 2);
      assertEquals("assistant", call.getString("role"));
      JsonObject declared = call.getJsonArray("tool_calls").getJsonObject(0);
      assertEquals("call_1", declared.getString("id"));
      assertEquals("{\"a\": 12, \"op\": \"times\", \"b\": 7}", declared.getJsonObject("function").getString("arguments"));
      JsonObject result = messages.getJsonObject(messages.size() - 1);
      assertEquals("tool", result.getString("role"));
      assertEquals("call_1", result.getString("tool_call_id"));
      assertEquals(new JsonObject().put("result", "84"), new JsonObject(result.getString("content")));
    }
  }

  @Test
  @DisplayName("a barge-in during a slow tool never runs it twice, and its outcome is still reported")
  void bargeInDuringSlowTool() throws Exception {
    AtomicInteger runs = new AtomicInteger();
    var tool = mesh.meshVertx().eventBus().<JsonObject>consumer("tool.slow_lookup", message -> {
      runs.incrementAndGet();
      // Longer than the interrupting question: its turn begins while the tool still runs.
      mesh.meshVertx().setTimer(4_000, t -> message.reply(new JsonObject().put("status", "shipped")));
    });
    tool.completion().await(5, TimeUnit.SECONDS);
    try (VoiceClient client = mesh.connect("agent=scripted")) {
      openAi.script(new ToolCalls(List.of(new ScriptedCall("call_9", "slow_lookup", List.of("{\"order\":", "\"A17\"}")))),
          new Answer(List.of("Okay.")));
      int before = openAi.requests().size();
      client.sessionId();
      // Speech interrupts at once, not at its first word: the interruption surely lands while the tool runs.
      client.send(new JsonObject().put("type", "session.update").put("falseInterruptionMs", 0));
      client.await("session.updated", WAIT);
      client.speak(Speech.say("what time is it"), 1_000, 3).await(20, TimeUnit.SECONDS);
      String turnId = client.await("tool_executing", WAIT).getString("turnId");
      client.speak(Speech.say("what is nine times eight"), 1_000, 1).await(20, TimeUnit.SECONDS);

      JsonObject interrupted = client.await(e -> "agent_completed".equals(e.getString("type"))
          && turnId.equals(e.getString("turnId")), WAIT);
      assertTrue(interrupted.getBoolean("interrupted"), interrupted.encode());
      JsonObject toolDone = client.await("tool_completed", WAIT);
      assertEquals("call_9", toolDone.getString("callId"));
      assertNotNull(toolDone.getJsonObject("result"), "the tool's outcome, not a timeout: " + toolDone.encode());
      assertEquals("shipped", toolDone.getJsonObject("result").getString("status"));
      assertTrue(toolDone.getLong("seq") < interrupted.getLong("seq"), "the tool's outcome is reported before the turn ends");
      JsonObject question = client.events("transcript.final").get(1);
      assertTrue(question.getLong("seq") < toolDone.getLong("seq"),
          "the interrupting question's turn began before the tool's outcome came: " + client.events());

      client.awaitNth("agent_completed", 2, WAIT);
      assertEquals(1, runs.get(), "the tool ran exactly once");
      assertEquals(1, client.events("tool_executing").size());
      assertEquals(1, client.events("tool_completed").size());
      assertEquals(before + 2, openAi.requests().size(), "no round after the cancelled tool call, then the next turn");
    } finally {
      tool.unregister();
    }
  }

  @Test
  @DisplayName("interrupting a long one-sentence answer 2 s into its audio keeps the words played by then, and the model sees exactly them")
  void interruptedToTheWord() throws Exception {
    String answer = "The old lighthouse keeper climbed the narrow stairs every evening to light the lamp and watch "
        + "the ships sail slowly past the rocky point far below the cliffs.";
    openAi.script(new Answer(pieces(List.of(answer))), new Answer(List.of("Sure.")));
    int requestsBefore = openAi.requests().size();
    try (VoiceClient client = mesh.connect("agent=scripted")) {
      String sessionId = client.sessionId();
      client.speak(Speech.say("tell me a story"), 1_000, 3).await(20, TimeUnit.SECONDS);
      String turnId = client.await("audio.start", WAIT).getString("turnId");
      awaitAudio(client, 1);
      long firstAudioAt = client.audioArrivals().get(0)[0];

      // The client plays the audio as it comes, at real time, and says how far it got.
      long playedMs = 0;
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (playedMs < 2_000) {
        assertTrue(System.nanoTime() < deadline, "only " + playedMs + " ms played");
        TimeUnit.MILLISECONDS.sleep(100); // the player's mark interval
        long received = Pcm16.msFor(Pcm16.DEFAULT_RATE_HZ, client.audio().length);
        playedMs = Math.min(2_000, Math.min(received, (System.nanoTime() - firstAudioAt) / 1_000_000));
        client.send(new JsonObject().put("type", "playback.mark").put("turnId", turnId).put("ms", playedMs));
      }
      client.send(new JsonObject().put("type", "response.cancel"));
      JsonObject completed = client.await(e -> "agent_completed".equals(e.getString("type"))
          && turnId.equals(e.getString("turnId")), WAIT);
      assertTrue(completed.getBoolean("interrupted"), completed.encode());
      String heard = completed.getString("heardText");
      assertTrue(!heard.isEmpty() && isWordPrefix(heard, answer), "a word prefix of the answer: '" + heard + "'");

      // Which words 2 s of this voice hold, measured apart from the server: the longest prefix of the
      // answer that FreeTTS speaks within 2 s on its own.
      String[] words = answer.split(" ");
      int played = 0;
      while (played < words.length
          && Speech.speechEndMs(Speech.say(String.join(" ", List.of(words).subList(0, played + 1)))) <= 2_000) {
        played++;
      }
      int heardWords = heard.split(" ").length;
      System.out.printf("heard %d words ('%s'); 2 s of audio hold about %d%n", heardWords, heard, played);
      assertTrue(Math.abs(heardWords - played) <= 1, "heard " + heardWords + " words, played about " + played);
      assertEquals(List.of(Map.of("text", heard)), mesh.query(
          "SELECT text FROM messages WHERE session_id = $1 AND role = 'assistant'", UUID.fromString(sessionId)));

      // The next turn's request to the model carries exactly what was heard.
      client.speak(Speech.say("what time is it"), 1_000, 3).await(20, TimeUnit.SECONDS);
      client.awaitNth("agent_completed", 2, WAIT);
      JsonArray messages = openAi.requests().get(requestsBefore + 1).getJsonArray("messages");
      assertEquals("assistant", messages.getJsonObject(messages.size() - 2).getString("role"), messages.encode());
      assertEquals(heard, messages.getJsonObject(messages.size() - 2).getString("content"));
    }
  }

  /** True when {@code prefix} is {@code text} cut at the end of one of its words. */
  private static boolean isWordPrefix(String prefix, String text) {
    return text.startsWith(prefix) && (prefix.length() == text.length() || text.charAt(prefix.length()) == ' ');
  }

  /** The sentences as a model would stream them: a few words per delta. */
  private static List<String> pieces(List<String> sentences) {
    return List.of(String.join(" ", sentences).split("(?<= )")).stream().toList();
  }

  /**
   * Asks the question the scripted answer follows, lets a second of the answer's audio arrive, then
   * says {@code sound} over it; returns the answer's turnId.
   */
  private static String talkOverTheAnswer(VoiceClient client, byte[] sound) throws Exception {
    client.speak(Speech.say("what time is it"), 1_000, 3).await(20, TimeUnit.SECONDS);
    String turnId = client.await("audio.start", WAIT).getString("turnId");
    awaitAudio(client, Pcm16.bytesFor(Pcm16.DEFAULT_RATE_HZ, 1_000));
    client.speak(sound, 1_000, 1).await(10, TimeUnit.SECONDS);
    return turnId;
  }

  /** The scripted two-sentence answer ends whole: not interrupted, all of it heard, nothing cleared. */
  private static void awaitWholeAnswer(VoiceClient client) throws Exception {
    JsonObject completed = client.await("agent_completed", WAIT);
    assertFalse(completed.getBoolean("interrupted"), completed.encode());
    assertEquals(String.join(" ", STORY.subList(0, 2)), completed.getString("heardText"), "the whole answer");
    assertEquals(List.of(), client.events("audio.clear"));
  }

  private static void awaitAudio(VoiceClient client, long bytes) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (client.audio().length < bytes) {
      assertTrue(System.nanoTime() < deadline, "only " + client.audio().length + " of " + bytes + " audio bytes");
      TimeUnit.MILLISECONDS.sleep(20); // polling interval, bounded by the deadline
    }
  }

  /** When audio.clear arrived; audio after it belongs to the next turn. */
  private static long clearArrival(VoiceClient client, List<long[]> arrivals) {
    return client.eventArrival("audio.clear");
  }
}
