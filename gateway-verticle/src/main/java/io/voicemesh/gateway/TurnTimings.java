package io.voicemesh.gateway;

import io.vertx.core.json.JsonObject;
import io.voicemesh.api.MeshMetrics;
import java.util.concurrent.TimeUnit;

/**
 * One turn's stage timings in ms, for {@code agent_completed}; each is recorded into its histogram
 * too. A stage is measured once, the first time it happens, and only when both of its ends are
 * known.
 *
 * <pre>
 * speech end ─endpointingMs─▶ turn end ─sttFinalMs─▶ final transcript
 * llm.generate sent ─llmFirstTokenMs─▶ first delta      first tts.synthesize ─ttsFirstAudioMs─▶ first chunk
 * speech end ─voiceToVoiceMs─▶ first agent audio sent to the client
 * </pre>
 */
final class TurnTimings {
  private final TurnClock clock;
  private final JsonObject timings = new JsonObject();
  private long generateSentNanos = -1;
  private long firstSynthesisNanos = -1;

  TurnTimings(TurnClock clock) {
    this.clock = clock;
  }

  /** The user's turn is over and its transcript is in. */
  void turnEnded() {
    measure("endpointingMs", MeshMetrics.ENDPOINTING, clock.speechEndNanos(), clock.turnEndNanos());
    if (clock.turnEndNanos() >= 0 && clock.finalNanos() >= clock.turnEndNanos()) {
      timings.put("sttFinalMs", (clock.finalNanos() - clock.turnEndNanos()) / 1_000_000);
    }
  }

  void generateSent(long nanos) {
    generateSentNanos = nanos;
  }

  void llmDelta(long nanos) {
    once("llmFirstTokenMs", MeshMetrics.LLM_FIRST_TOKEN, generateSentNanos, nanos);
  }

  void synthesisSent(long nanos) {
    if (firstSynthesisNanos < 0) {
      firstSynthesisNanos = nanos;
    }
  }

  void ttsAudio(long nanos) {
    once("ttsFirstAudioMs", MeshMetrics.TTS_FIRST_AUDIO, firstSynthesisNanos, nanos);
  }

  void audioPlayed(long nanos) {
    once("voiceToVoiceMs", MeshMetrics.VOICE_TO_VOICE, clock.speechEndNanos(), nanos);
  }

  /** The timings so far, as {@code agent_completed} carries them. */
  JsonObject json() {
    return timings.copy();
  }

  private void once(String field, String meter, long fromNanos, long toNanos) {
    if (!timings.containsKey(field)) {
      measure(field, meter, fromNanos, toNanos);
    }
  }

  private void measure(String field, String meter, long fromNanos, long toNanos) {
    if (fromNanos < 0 || toNanos < fromNanos) {
      return;
    }
    long nanos = toNanos - fromNanos;
    timings.put(field, nanos / 1_000_000);
    MeshMetrics.timer(meter).record(nanos, TimeUnit.NANOSECONDS);
  }
}
