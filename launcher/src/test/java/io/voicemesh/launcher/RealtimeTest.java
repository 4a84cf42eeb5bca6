package io.voicemesh.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.voicemesh.api.audio.G711;
import io.voicemesh.api.audio.Resampler;
import io.voicemesh.launcher.ScriptedOpenAiServer.Answer;
import io.voicemesh.launcher.ScriptedOpenAiServer.ScriptedCall;
import io.voicemesh.launcher.ScriptedOpenAiServer.ToolCalls;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code /v1/realtime} driven by the official {@code openai} npm package's {@code OpenAIRealtimeWS},
 * unchanged but for its base URL (the gateway, over TLS with the certificate
 * {@code --tls-self-signed} made, trusted through NODE_EXTRA_CA_CERTS) and its API key (our token).
 */
@DisplayName("The OpenAI Realtime protocol, through the official openai client")
@Timeout(300)
class RealtimeTest {
  private static final Duration WAIT = Duration.ofSeconds(40);
  private static final Path DATA = Path.of("target", "realtime-test-data");
  private static final List<String> STORY = ScriptedOpenAiServer.STORY;
  private static final ScriptedOpenAiServer openAi = ScriptedOpenAiServer.startUnchecked();

  @RegisterExtension
  static final TestMesh mesh = TestMesh.with(() -> {
    Map<String, Object> settings = new java.util.HashMap<>(openAi.agentSettings());
    settings.put("voicemesh.dataDir", DATA.toString());
    settings.put("voicemesh.gateway.tls.selfSigned", true);
    return settings;
  });

  @AfterAll
  static void stopOpenAi() throws Exception {
    openAi.close();
  }

  /** The official client, connecting (await {@code session.created}). */
  private static BridgeDriver connect(String model) throws Exception {
    return connect(model, false);
  }

  /** {@code beta}: the SDK's beta client, which asks for the beta protocol ({@code OpenAI-Beta: realtime=v1}). */
  private static BridgeDriver connect(String model, boolean beta) throws Exception {
    BridgeDriver rt = BridgeDriver.start("realtime-driver.js",
        Map.of("NODE_EXTRA_CA_CERTS", mesh.mesh().tlsCertificate().toAbsolutePath().toString()));
    rt.command(new JsonObject().put("op", "connect").put("baseURL", mesh.mesh().baseUrl() + "v1")
        .put("apiKey", mesh.token(TestMesh.USER)).put("model", model).put("beta", beta));
    return rt;
  }

  private static JsonObject awaitServer(BridgeDriver rt, String type) throws Exception {
    return awaitServer(rt, type, e -> true);
  }

  private static JsonObject awaitServer(BridgeDriver rt, String type, Predicate<JsonObject> match) throws Exception {
    return rt.await(e -> "server".equals(e.getString("event")) && type.equals(e.getJsonObject("data").getString("type"))
        && match.test(e.getJsonObject("data")), WAIT).getJsonObject("data");
  }

  private static List<JsonObject> server(BridgeDriver rt) {
    return rt.seen().stream().filter(e -> "server".equals(e.getString("event"))).map(e -> e.getJsonObject("data")).toList();
  }

  private static List<String> types(BridgeDriver rt) {
    return server(rt).stream().map(e -> e.getString("type")).toList();
  }

  private static void send(BridgeDriver rt, JsonObject event) throws Exception {
    rt.command(new JsonObject().put("op", "send").put("event", event));
  }

  /** {@code text} spoken, at 24 kHz (the protocol's rate), followed by {@code silenceMs}, streamed at real time in 20 ms appends. */
  private static void speak(BridgeDriver rt, String text, int silenceMs) throws Exception {
    speak(rt, text, silenceMs, null);
  }

  /** The same, as G.711 at 8 kHz when {@code law} is given. */
  private static void speak(BridgeDriver rt, String text, int silenceMs, G711 law) throws Exception {
    byte[] at16k = Speech.concat(Speech.say(text), Speech.silence(silenceMs));
    int rate = law == null ? 24_000 : G711.RATE_HZ;
    Resampler resampler = new Resampler(16_000, rate);
    byte[] pcm = Speech.concat(resampler.process(at16k), resampler.flush());
    Path file = Files.createDirectories(DATA.resolve("audio")).resolve(text.replace(' ', '-') + "-" + silenceMs
        + (law == null ? ".pcm" : "." + law));
    Files.write(file, law == null ? pcm : law.encode(pcm));
    rt.command(new JsonObject().put("op", "stream").put("path", file.toAbsolutePath().toString()).put("chunkMs", 20)
        .put("rate", rate).put("bytesPerSample", law == null ? 2 : 1));
  }

  private static JsonObject userText(String text) {
    return new JsonObject().put("type", "conversation.item.create").put("item", new JsonObject().put("type", "message")
        .put("role", "user").put("content", new JsonArray().add(new JsonObject().put("type", "input_text").put("text", text))));
  }

  /** {@code expected} appear in this order in {@code types} (other events between them). */
  private static void assertInOrder(List<String> expected, List<String> types) {
    int at = 0;
    for (String type : expected) {
      int found = types.subList(at, types.size()).indexOf(type);
      assertTrue(found >= 0, type + " missing after position " + at + " in " + types);
      at += found + 1;
    }
  }

  /** The transcript (or text) of a response's first output item. */
  private static String transcriptOf(JsonObject response) {
    JsonObject content = response.getJsonArray("output").getJsonObject(0).getJsonArray("content").getJsonObject(0);
    return content.containsKey("transcript") ? content.getString("transcript") : content.getString("text");
  }

  private static long audioBytes(BridgeDriver rt) {
    return server(rt).stream().filter(e -> "response.output_audio.delta".equals(e.getString("type")))
        .mapToLong(e -> e.getLong("delta_bytes")).sum();
  }

  @Test
  @DisplayName("a spoken turn with server VAD: transcription, audio and transcript, response.done, in the protocol's order")
  void spokenTurn() throws Exception {
    try (BridgeDriver rt = connect("default")) {
      JsonObject created = awaitServer(rt, "session.created").getJsonObject("session");
      assertEquals("realtime", created.getString("type"));
      assertEquals(24_000, created.getJsonObject("audio").getJsonObject("input").getJsonObject("format").getInteger("rate"));
      send(rt, new JsonObject().put("type", "session.update").put("session", new JsonObject().put("type", "realtime")
          .put("audio", new JsonObject().put("input", new JsonObject()
              .put("transcription", new JsonObject().put("model", "whisper-1"))
              .put("turn_detection", new JsonObject().put("type", "server_vad").put("silence_duration_ms", 600))))));
      JsonObject updated = awaitServer(rt, "session.updated").getJsonObject("session");
      assertEquals(600, updated.getJsonObject("audio").getJsonObject("input").getJsonObject("turn_detection")
          .getInteger("silence_duration_ms"));
      speak(rt, "what time is it", 1_500);

      JsonObject transcribed = awaitServer(rt, "conversation.item.input_audio_transcription.completed");
      assertTrue(transcribed.getString("transcript").contains("time"), transcribed.encode());
      JsonObject done = awaitServer(rt, "response.done").getJsonObject("response");
      assertEquals("completed", done.getString("status"), done.encode());
      JsonObject item = done.getJsonArray("output").getJsonObject(0);
      assertEquals("assistant", item.getString("role"));
      String transcript = item.getJsonArray("content").getJsonObject(0).getString("transcript");
      assertFalse(transcript.isBlank(), done.encode());
      // 24 kHz PCM16: at least a second of speech.
      assertTrue(audioBytes(rt) > 48_000, "audio bytes " + audioBytes(rt));
      String deltas = String.join("", server(rt).stream()
          .filter(e -> "response.output_audio_transcript.delta".equals(e.getString("type")))
          .map(e -> e.getString("delta")).toList());
      assertEquals(transcript, deltas);
      assertInOrder(List.of("session.created", "session.updated", "input_audio_buffer.speech_started",
          "input_audio_buffer.speech_stopped", "input_audio_buffer.committed", "conversation.item.added",
          "conversation.item.done", "conversation.item.input_audio_transcription.completed", "response.created",
          "response.output_item.added", "conversation.item.added", "response.content_part.added",
          "response.output_audio_transcript.delta", "response.output_audio.delta", "response.output_audio.done",
          "response.output_audio_transcript.done", "response.content_part.done", "response.output_item.done",
          "conversation.item.done", "response.done"), types(rt));
      assertEquals(List.of(), rt.seen().stream().filter(e -> "sdk-error".equals(e.getString("event"))).toList());

      // Everything else stays ours: the session's log holds the turn like any other.
      String sessionId = created.getString("id");
      List<String> logged = List.of();
      for (long end = System.nanoTime() + WAIT.toNanos(); !logged.contains("agent_completed") && System.nanoTime() < end; ) {
        logged = mesh.query("SELECT type FROM session_events WHERE session_id = $1 ORDER BY seq",
            UUID.fromString(sessionId)).stream().map(row -> (String) row.get("type")).toList();
      }
      assertInOrder(List.of("transcript.final", "user_message", "agent_started", "agent_response", "agent_completed"),
          logged);
    }
  }

  @Test
  @DisplayName("G.711 μ-law in and out (audio/pcmu at 8 kHz): a spoken turn")
  void mulawTurn() throws Exception {
    try (BridgeDriver rt = connect("default")) {
      awaitServer(rt, "session.created");
      JsonObject pcmu = new JsonObject().put("type", "audio/pcmu");
      send(rt, new JsonObject().put("type", "session.update").put("session", new JsonObject().put("type", "realtime")
          .put("audio", new JsonObject()
              .put("input", new JsonObject().put("format", pcmu).put("transcription", new JsonObject().put("model", "x")))
              .put("output", new JsonObject().put("format", pcmu)))));
      awaitServer(rt, "session.updated");
      speak(rt, "what time is it", 1_500, G711.ULAW);
      JsonObject transcribed = awaitServer(rt, "conversation.item.input_audio_transcription.completed");
      assertTrue(transcribed.getString("transcript").contains("time"), transcribed.encode());
      JsonObject done = awaitServer(rt, "response.done").getJsonObject("response");
      assertEquals("completed", done.getString("status"), done.encode());
      // One byte a sample at 8 kHz: at least a second of speech, and nothing like 24 kHz PCM16's 48 KB a second.
      long bytes = audioBytes(rt);
      String transcript = transcriptOf(done);
      assertTrue(bytes > 8_000 && bytes < transcript.split(" ").length * 8_000L, bytes + " bytes for: " + transcript);
    }
  }

  @Test
  @DisplayName("barge-in through the adapter: speech over the answer cancels it (turn_detected) and keeps what was heard")
  void bargeIn() throws Exception {
    openAi.script(new Answer(List.of(String.join(" ", STORY))), new Answer(List.of("Seventy two.")));
    try (BridgeDriver rt = connect("scripted")) {
      awaitServer(rt, "session.created");
      speak(rt, "what time is it", 1_000);
      awaitServer(rt, "response.output_audio.delta");
      rt.await(e -> audioBytes(rt) > 96_000, WAIT); // two seconds of the answer
      speak(rt, "what is nine times eight", 1_000);
      JsonObject done = awaitServer(rt, "response.done").getJsonObject("response");
      assertEquals("cancelled", done.getString("status"), done.encode());
      assertEquals("turn_detected", done.getJsonObject("status_details").getString("reason"));
      String heard = transcriptOf(done);
      assertTrue(String.join(" ", STORY).startsWith(heard) && !heard.contains(STORY.get(3)), "heard: " + heard);
      JsonObject next = awaitServer(rt, "response.done", e -> !e.getJsonObject("response").getString("id")
          .equals(done.getString("id"))).getJsonObject("response");
      assertEquals("completed", next.getString("status"), next.encode());
    }
  }

  @Test
  @DisplayName("the SDK's beta client gets the beta event names")
  void betaClient() throws Exception {
    try (BridgeDriver rt = connect("default", true)) {
      JsonObject created = awaitServer(rt, "session.created").getJsonObject("session");
      assertEquals("pcm16", created.getString("input_audio_format"), created.encode());
      send(rt, new JsonObject().put("type", "session.update").put("session", new JsonObject()
          .put("modalities", new JsonArray().add("text")).putNull("turn_detection")));
      awaitServer(rt, "session.updated");
      send(rt, userText("what is twelve times seven"));
      send(rt, new JsonObject().put("type", "response.create"));
      JsonObject done = awaitServer(rt, "response.done").getJsonObject("response");
      assertEquals("completed", done.getString("status"), done.encode());
      assertTrue(awaitServer(rt, "response.text.done").getString("text").contains("84"));
      List<String> types = types(rt);
      assertTrue(types.contains("conversation.item.created") && types.contains("response.text.delta"), types.toString());
      assertFalse(types.contains("response.output_text.delta") || types.contains("conversation.item.added"), types.toString());
    }
  }

  @Test
  @DisplayName("a text-only response to a user text message, with manual turns")
  void textOnly() throws Exception {
    try (BridgeDriver rt = connect("default")) {
      String sessionId = awaitServer(rt, "session.created").getJsonObject("session").getString("id");
      send(rt, new JsonObject().put("type", "session.update").put("session", new JsonObject().put("type", "realtime")
          .put("output_modalities", new JsonArray().add("text"))
          .put("audio", new JsonObject().put("input", new JsonObject().putNull("turn_detection")))));
      awaitServer(rt, "session.updated");
      send(rt, userText("what is twelve times seven"));
      awaitServer(rt, "conversation.item.done");
      send(rt, new JsonObject().put("type", "response.create"));
      JsonObject done = awaitServer(rt, "response.done").getJsonObject("response");
      assertEquals("completed", done.getString("status"), done.encode());
      JsonObject text = awaitServer(rt, "response.output_text.done");
      assertTrue(text.getString("text").contains("84"), text.encode());
      assertEquals(0, audioBytes(rt), "no audio in a text-only response");
      assertEquals(List.of(), mesh.query("SELECT seq FROM session_events WHERE session_id = $1 AND type = 'audio.start'",
          UUID.fromString(sessionId)), "nothing was synthesized");
      assertInOrder(List.of("conversation.item.added", "conversation.item.done", "response.created",
          "response.output_item.added", "response.content_part.added", "response.output_text.delta",
          "response.output_text.done", "response.content_part.done", "response.output_item.done", "response.done"),
          types(rt));
    }
  }

  @Test
  @DisplayName("a manual spoken turn: turn_detection null, commit, then response.create")
  void manualSpokenTurn() throws Exception {
    try (BridgeDriver rt = connect("default")) {
      awaitServer(rt, "session.created");
      send(rt, new JsonObject().put("type", "session.update").put("session", new JsonObject().put("type", "realtime")
          .put("audio", new JsonObject().put("input", new JsonObject().putNull("turn_detection")
              .put("transcription", new JsonObject().put("model", "whisper-1"))))));
      awaitServer(rt, "session.updated");
      speak(rt, "what time is it", 200);
      rt.await(e -> "streamed".equals(e.getString("event")), WAIT);
      send(rt, new JsonObject().put("type", "input_audio_buffer.commit"));
      send(rt, new JsonObject().put("type", "response.create"));
      JsonObject done = awaitServer(rt, "response.done").getJsonObject("response");
      assertEquals("completed", done.getString("status"), done.encode());
      assertTrue(audioBytes(rt) > 0);
      assertFalse(types(rt).contains("input_audio_buffer.speech_started"), "no VAD events in manual mode");
      assertInOrder(List.of("input_audio_buffer.committed", "conversation.item.input_audio_transcription.completed",
          "response.created", "response.done"), types(rt));
    }
  }

  @Test
  @DisplayName("response.cancel mid-answer: response.done cancelled, and the audio stops")
  void cancelMidAnswer() throws Exception {
    openAi.script(new Answer(List.of(String.join(" ", STORY))));
    try (BridgeDriver rt = connect("scripted")) {
      awaitServer(rt, "session.created");
      send(rt, userText("tell me a story"));
      awaitServer(rt, "response.output_audio.delta");
      send(rt, new JsonObject().put("type", "response.cancel"));
      JsonObject done = awaitServer(rt, "response.done").getJsonObject("response");
      assertEquals("cancelled", done.getString("status"), done.encode());
      assertEquals("client_cancelled", done.getJsonObject("status_details").getString("reason"));
      List<String> types = types(rt);
      int end = types.indexOf("response.done");
      assertFalse(types.subList(end, types.size()).contains("response.output_audio.delta"), "audio after response.done");
      String heard = transcriptOf(done);
      assertTrue(String.join(" ", STORY).startsWith(heard) && heard.length() < String.join(" ", STORY).length(),
          "heard: " + heard);
    }
  }

  @Test
  @DisplayName("conversation.item.truncate cuts the answer to what was heard, as the next turn's model request shows")
  void truncate() throws Exception {
    openAi.script(new Answer(List.of(String.join(" ", STORY))), new Answer(List.of("Fine.")));
    try (BridgeDriver rt = connect("scripted")) {
      awaitServer(rt, "session.created");
      send(rt, userText("tell me a story"));
      String itemId = awaitServer(rt, "response.output_item.added").getJsonObject("item").getString("id");
      // Past the first sentence's audio (≈ 3 s at 24 kHz PCM16 is 144,000 bytes).
      rt.await(e -> audioBytes(rt) > 200_000, WAIT);
      int requestsBefore = openAi.requests().size();
      send(rt, new JsonObject().put("type", "conversation.item.truncate").put("item_id", itemId)
          .put("content_index", 0).put("audio_end_ms", 3_500));
      JsonObject truncated = awaitServer(rt, "conversation.item.truncated");
      assertEquals(3_500, truncated.getInteger("audio_end_ms"));
      JsonObject done = awaitServer(rt, "response.done").getJsonObject("response");
      String heard = transcriptOf(done);
      assertTrue(heard.startsWith(STORY.get(0)) && !heard.contains(STORY.get(2)), "heard at 3.5 s: " + heard);

      send(rt, userText("and then"));
      awaitServer(rt, "response.done", e -> !e.getJsonObject("response").getString("id")
          .equals(done.getString("id")));
      String history = openAi.requests().get(requestsBefore).getJsonArray("messages").encode();
      assertTrue(history.contains(heard), history);
      assertFalse(history.contains(STORY.get(2)), "the unheard rest reached the model: " + history);
    }
  }

  @Test
  @DisplayName("a client-side function call: the model's call goes to the client, its output back to the model")
  void clientFunctionCall() throws Exception {
    openAi.script(new ToolCalls(List.of(new ScriptedCall("call_weather_1", "get_weather",
        List.of("{\"city\":", "\"Paris\"}")))), new Answer(List.of("It is sunny ", "in Paris.")));
    int requestsBefore = openAi.requests().size();
    try (BridgeDriver rt = connect("scripted")) {
      awaitServer(rt, "session.created");
      JsonObject weather = new JsonObject().put("type", "function").put("name", "get_weather")
          .put("description", "The weather in a city.").put("parameters", new JsonObject().put("type", "object")
              .put("properties", new JsonObject().put("city", new JsonObject().put("type", "string"))));
      send(rt, new JsonObject().put("type", "session.update").put("session", new JsonObject().put("type", "realtime")
          .put("tools", new JsonArray().add(weather)).put("tool_choice", "auto")));
      awaitServer(rt, "session.updated");
      send(rt, userText("what is the weather in paris"));

      JsonObject arguments = awaitServer(rt, "response.function_call_arguments.done");
      assertEquals("get_weather", arguments.getString("name"));
      assertEquals(new JsonObject().put("city", "Paris"), new JsonObject(arguments.getString("arguments")));
      String callId = arguments.getString("call_id");
      JsonObject first = awaitServer(rt, "response.done").getJsonObject("response");
      assertEquals("completed", first.getString("status"), first.encode());
      JsonObject call = first.getJsonArray("output").getJsonObject(0);
      assertEquals("function_call", call.getString("type"));
      assertEquals(callId, call.getString("call_id"));
      JsonArray offered = openAi.requests().get(requestsBefore).getJsonArray("tools");
      assertTrue(offered.encode().contains("get_weather"), "the model was offered the client's tool: " + offered);

      send(rt, new JsonObject().put("type", "conversation.item.create").put("item", new JsonObject()
          .put("type", "function_call_output").put("call_id", callId).put("output", "{\"sky\":\"sunny\"}")));
      send(rt, new JsonObject().put("type", "response.create"));
      JsonObject second = awaitServer(rt, "response.done", e -> !e.getJsonObject("response").getString("id")
          .equals(first.getString("id"))).getJsonObject("response");
      assertEquals("completed", second.getString("status"), second.encode());
      assertEquals("It is sunny in Paris.", transcriptOf(second));
      JsonArray messages = openAi.requests().get(requestsBefore + 1).getJsonArray("messages");
      JsonObject toolResult = messages.getJsonObject(messages.size() - 1);
      assertEquals("tool", toolResult.getString("role"), messages.encode());
      assertEquals(callId, toolResult.getString("tool_call_id"));
      assertEquals("{\"sky\":\"sunny\"}", toolResult.getString("content"));
      JsonObject calls = messages.getJsonObject(messages.size() - 2);
      assertEquals("get_weather", calls.getJsonArray("tool_calls").getJsonObject(0).getJsonObject("function")
          .getString("name"), messages.encode());
    }
  }

  @Test
  @DisplayName("conversation.item.delete: deleted items are not in what the model sees next")
  void deleteItems() throws Exception {
    openAi.script(new Answer(List.of("Hello Bob.")), new Answer(List.of("Sunny.")), new Answer(List.of("I do not know.")));
    int requestsBefore = openAi.requests().size();
    try (BridgeDriver rt = connect("scripted")) {
      awaitServer(rt, "session.created");
      send(rt, userText("my name is Bob"));
      JsonObject first = awaitServer(rt, "response.done").getJsonObject("response");
      String answerItem = first.getJsonArray("output").getJsonObject(0).getString("id");
      String userItem = awaitServer(rt, "conversation.item.done", e -> "user".equals(e.getJsonObject("item")
          .getString("role"))).getJsonObject("item").getString("id");
      send(rt, userText("how is the weather"));
      JsonObject second = awaitServer(rt, "response.done", e -> !e.getJsonObject("response").getString("id")
          .equals(first.getString("id"))).getJsonObject("response");
      send(rt, new JsonObject().put("type", "conversation.item.delete").put("item_id", userItem));
      send(rt, new JsonObject().put("type", "conversation.item.delete").put("item_id", answerItem));
      awaitServer(rt, "conversation.item.deleted", e -> userItem.equals(e.getString("item_id")));
      awaitServer(rt, "conversation.item.deleted", e -> answerItem.equals(e.getString("item_id")));
      send(rt, new JsonObject().put("type", "conversation.item.delete").put("event_id", "evt_no_item")
          .put("item_id", "item_nothing"));
      awaitServer(rt, "error", e -> "evt_no_item".equals(e.getJsonObject("error").getString("event_id")));

      send(rt, userText("what is my name"));
      awaitServer(rt, "response.done", e -> !Set.of(first.getString("id"), second.getString("id"))
          .contains(e.getJsonObject("response").getString("id")));
      String history = openAi.requests().get(requestsBefore + 2).getJsonArray("messages").encode();
      assertFalse(history.contains("Bob"), "a deleted item reached the model: " + history);
      assertTrue(history.contains("how is the weather") && history.contains("Sunny."), history);
    }
  }

  @Test
  @DisplayName("bad events get an error naming their event_id, and the session goes on")
  void badEvents() throws Exception {
    try (BridgeDriver rt = connect("default")) {
      awaitServer(rt, "session.created");
      send(rt, new JsonObject().put("type", "no.such.event").put("event_id", "evt_unknown"));
      send(rt, new JsonObject().put("type", "input_audio_buffer.append").put("event_id", "evt_base64").put("audio", "%%%"));
      send(rt, new JsonObject().put("type", "session.update").put("event_id", "evt_types")
          .put("session", new JsonObject().put("audio", new JsonObject().put("input", new JsonObject()
              .put("turn_detection", new JsonObject().put("silence_duration_ms", "long"))))));
      send(rt, new JsonObject().put("type", "input_audio_buffer.append").put("event_id", "evt_audio_type").put("audio", 42));
      List<String> expected = List.of("evt_unknown", "evt_base64", "evt_types", "evt_audio_type");
      List<JsonObject> errors = new ArrayList<>();
      for (String id : expected) {
        errors.add(awaitServer(rt, "error", e -> id.equals(e.getJsonObject("error").getString("event_id"))));
      }
      assertEquals("invalid_request_error", errors.get(0).getJsonObject("error").getString("type"));
      assertEquals("bad_audio", errors.get(1).getJsonObject("error").getString("code"));
      assertEquals(List.of(), types(rt).stream().filter("session.updated"::equals).toList(), "a refused update changes nothing");
      // The session goes on.
      send(rt, userText("what is twelve times seven"));
      JsonObject done = awaitServer(rt, "response.done").getJsonObject("response");
      assertEquals("completed", done.getString("status"), done.encode());
    }
  }

  @Test
  @DisplayName("an unknown model: an invalid_request_error event, then close")
  void unknownModel() throws Exception {
    try (BridgeDriver rt = connect("gpt-no-such-agent")) {
      JsonObject error = awaitServer(rt, "error").getJsonObject("error");
      assertEquals("invalid_request_error", error.getString("type"));
      assertEquals("model", error.getString("param"));
      JsonObject closed = rt.await(e -> "close".equals(e.getString("event")), WAIT);
      assertEquals(1008, closed.getInteger("code"));
    }
  }
}
