package io.voicemesh.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.voicemesh.launcher.ScriptedOpenAiServer.Answer;
import io.voicemesh.launcher.ScriptedOpenAiServer.BreakMidStream;
import io.voicemesh.launcher.ScriptedOpenAiServer.HttpError;
import io.voicemesh.launcher.ScriptedOpenAiServer.Reply;
import io.voicemesh.launcher.ScriptedOpenAiServer.Silence;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

@DisplayName("An agent on an OpenAI-compatible streaming endpoint")
@Timeout(180)
class OpenAiAgentTest {
  private static final Duration TURN = Duration.ofSeconds(20);
  private static final long IDLE_TIMEOUT_MS = 1_500;
  private static final ScriptedOpenAiServer openAi = ScriptedOpenAiServer.startUnchecked();

  @RegisterExtension
  static final TestMesh mesh = TestMesh.with(() -> {
    String agent = "voicemesh.llm.agents.scripted.";
    return Map.of(
        agent + "engine", "openai",
        agent + "baseUrl", openAi.baseUrl(),
        agent + "model", "test-model",
        agent + "apiKey", "sk-test",
        agent + "instructions", "You are a test agent.",
        agent + "idleTimeoutMs", IDLE_TIMEOUT_MS);
  });

  @AfterAll
  static void stopOpenAi() throws Exception {
    openAi.close();
  }

  @Test
  @DisplayName("streams the model's text to the client as deltas and sends the session history")
  void streamsAndSendsHistory() throws Exception {
    openAi.script(new Answer(List.of("Hello", " from the", " model.", " It is", " a fine day.")),
        new Answer(List.of("Hi again.")));
    int before = openAi.requests().size();
    try (VoiceClient client = mesh.connect("agent=scripted")) {
      client.sessionId();
      client.speak(Speech.say("what time is it"), 1000, 3).await(20, TimeUnit.SECONDS);
      String firstUserText = client.await("transcript.final", TURN).getString("text");
      JsonObject answer = client.await("agent_response", TURN);
      assertEquals("Hello from the model. It is a fine day.", answer.getString("text"));
      List<String> deltas = client.events("agent_response.delta").stream().map(e -> e.getString("delta")).toList();
      assertEquals(List.of("Hello", " from the", " model.", " It is", " a fine day."), deltas);
      JsonObject completed = client.await("agent_completed", TURN);
      assertNull(completed.getValue("error"), completed.encode());
      assertTrue(client.audio().length > 0, "the answer was spoken");

      JsonObject first = openAi.requests().get(before);
      assertEquals("test-model", first.getString("model"));
      assertTrue(first.getBoolean("stream"));
      assertEquals("Bearer sk-test", openAi.authorizations().get(before));
      assertEquals(List.of("system:You are a test agent.", "user:" + firstUserText), roles(first));

      client.speak(Speech.say("hello there"), 1000, 3).await(20, TimeUnit.SECONDS);
      client.awaitNth("agent_completed", 2, TURN);
      String secondUserText = client.events("transcript.final").get(1).getString("text");
      assertEquals(List.of("system:You are a test agent.", "user:" + firstUserText,
              "assistant:Hello from the model. It is a fine day.", "user:" + secondUserText),
          roles(openAi.requests().get(before + 1)));
    }
  }

  static Stream<Arguments> failures() {
    return Stream.of(
        Arguments.of("breaks mid-stream", new BreakMidStream(List.of("Partial answer"))),
        Arguments.of("never answers", new Silence()),
        Arguments.of("answers HTTP 500", new HttpError(500)));
  }

  @ParameterizedTest(name = "a server that {0} ends the turn with engine_unavailable; the next turn works")
  @MethodSource("failures")
  void failureEndsTheTurnAndTheSessionGoesOn(String name, Reply failure) throws Exception {
    openAi.script(failure, new Answer(List.of("Recovered.")));
    try (VoiceClient client = mesh.connect("agent=scripted")) {
      client.sessionId();
      client.speak(Speech.say("what time is it"), 1000, 3).await(20, TimeUnit.SECONDS);
      JsonObject error = client.await("error", TURN);
      assertEquals("engine_unavailable", error.getString("code"), error.encode());
      JsonObject completed = client.await("agent_completed", TURN);
      assertEquals("engine_unavailable", completed.getJsonObject("error").getString("code"), completed.encode());
      assertFalse(client.events("agent_response").stream().anyMatch(e -> true), "no agent_response after a failure");

      client.speak(Speech.say("hello there"), 1000, 3).await(20, TimeUnit.SECONDS);
      assertEquals("Recovered.", client.await("agent_response", TURN).getString("text"));
      JsonObject second = client.awaitNth("agent_completed", 2, TURN);
      assertNull(second.getValue("error"), second.encode());
      assertTrue(client.isOpen());
    }
  }

  private static List<String> roles(JsonObject request) {
    JsonArray messages = request.getJsonArray("messages");
    return messages.stream().map(m -> (JsonObject) m)
        .map(m -> m.getString("role") + ":" + m.getString("content"))
        .collect(Collectors.toList());
  }
}
