package io.voicemesh.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("A turn's timings")
class TurnTimingsTest {
  private static final long MS = 1_000_000;

  @Test
  @DisplayName("measures each stage once, from its start to its first result")
  void stages() {
    TurnTimings timings = new TurnTimings(new TurnClock(1_000 * MS, 1_600 * MS, 1_650 * MS));
    timings.turnEnded();
    timings.generateSent(1_700 * MS);
    timings.llmDelta(1_900 * MS);
    timings.llmDelta(2_500 * MS);
    timings.synthesisSent(2_000 * MS);
    timings.synthesisSent(2_100 * MS);
    timings.ttsAudio(2_030 * MS);
    timings.ttsAudio(2_300 * MS);
    timings.audioPlayed(2_050 * MS);
    timings.audioPlayed(2_900 * MS);
    assertEquals(new JsonObject().put("endpointingMs", 600L).put("sttFinalMs", 50L).put("llmFirstTokenMs", 200L)
        .put("ttsFirstAudioMs", 30L).put("voiceToVoiceMs", 1_050L), timings.json());
  }

  @Test
  @DisplayName("leaves out a stage whose start is not known")
  void unknownStart() {
    TurnTimings timings = new TurnTimings(new TurnClock(-1, -1, 5 * MS));
    timings.turnEnded();
    timings.llmDelta(9 * MS);
    timings.audioPlayed(9 * MS);
    assertEquals(new JsonObject(), timings.json());
    timings.generateSent(10 * MS);
    timings.llmDelta(12 * MS);
    assertEquals(2L, timings.json().getLong("llmFirstTokenMs"));
    assertFalse(timings.json().containsKey("voiceToVoiceMs"));
  }
}
