package io.voicemesh.api;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
import io.micrometer.core.instrument.Timer;
import io.vertx.micrometer.backends.BackendRegistries;
import java.time.Duration;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The mesh's own meters, in the registry Vert.x reports to (scraped by Prometheus at
 * {@code /metrics}), defined once. Every timer publishes a histogram.
 */
public final class MeshMetrics {
  /** STT worker: from the audio (or commit) that ended the turn arriving to its final transcript being sent. */
  public static final String STT_FINAL_LATENCY = "voicemesh.stt.final.latency";
  /** Gateway: from {@code llm.generate} to the first streamed text. */
  public static final String LLM_FIRST_TOKEN = "voicemesh.llm.first.token";
  /** Gateway: from the first {@code tts.synthesize} of a turn to its first audio chunk. */
  public static final String TTS_FIRST_AUDIO = "voicemesh.tts.first.audio";
  /** Gateway: from the end of the user's speech arriving to the first agent audio sent, endpointing included. */
  public static final String VOICE_TO_VOICE = "voicemesh.voice.to.voice";
  /** Gateway: from the end of the user's speech to the end of the silence that ended the turn. */
  public static final String ENDPOINTING = "voicemesh.endpointing";
  /** STT worker: an audio frame's trip over the event bus from the gateway. */
  public static final String AUDIO_HOP = "voicemesh.bus.audio.hop";
  /** Sessions (connections, streams, turns, sentences) a node's role holds now; tags role and node. */
  public static final String SESSIONS = "voicemesh.sessions";
  /** STT worker: streams it holds, closed ones still finishing included; tag node. */
  public static final String STT_RECOGNIZERS = "voicemesh.stt.recognizers";
  /** STT worker: hot-standby streams it holds (counted in {@link #SESSIONS} too); tag node. */
  public static final String STT_STANDBY_STREAMS = "voicemesh.stt.standby.streams";
  /** STT worker: idle Vosk recognizers that have decoded speech (warm), in this process. */
  public static final String STT_WARM_RECOGNIZERS = "voicemesh.stt.recognizers.warm";
  /** STT worker: Vosk recognizers decoding a stream's audio now, in this process. */
  public static final String STT_BUSY_RECOGNIZERS = "voicemesh.stt.recognizers.busy";
  /** Session role: session events the Kafka relay had acknowledged by Kafka; tag node. */
  public static final String KAFKA_RELAY_SENT = "voicemesh.kafka.relay.sent";
  /** Session role: from an event being stored to Kafka acknowledging it. */
  public static final String KAFKA_RELAY_LATENCY = "voicemesh.kafka.relay.latency";
  /** Session role: events stored but not yet on Kafka, over every shard; tag node. */
  public static final String KAFKA_RELAY_LAG_EVENTS = "voicemesh.kafka.relay.lag.events";
  /** Session role: age of the oldest event stored but not yet on Kafka, in seconds; tag node. */
  public static final String KAFKA_RELAY_LAG_SECONDS = "voicemesh.kafka.relay.lag.seconds";
  /** Errors sent to clients; tag code. */
  public static final String ERRORS = "voicemesh.errors";

  private MeshMetrics() {
  }

  /** The registry Vert.x metrics use, or Micrometer's global one when metrics are off. */
  public static MeterRegistry registry() {
    MeterRegistry registry = BackendRegistries.getDefaultNow();
    return registry != null ? registry : Metrics.globalRegistry;
  }

  /** One description per timer, registered wherever the timer is first used. */
  private static final Map<String, String> DESCRIPTIONS = Map.of(
      STT_FINAL_LATENCY, "From the audio that ended a turn to its final transcript",
      LLM_FIRST_TOKEN, "From llm.generate to the first streamed text",
      TTS_FIRST_AUDIO, "From a turn's first tts.synthesize to its first audio",
      VOICE_TO_VOICE, "From the end of the user's speech to the first agent audio",
      ENDPOINTING, "From the end of the user's speech to the end of the turn",
      AUDIO_HOP, "An audio frame's trip over the event bus from the gateway",
      KAFKA_RELAY_LATENCY, "From a session event being stored to Kafka acknowledging it");

  /** One of the timers above. */
  public static Timer timer(String name) {
    String description = DESCRIPTIONS.get(name);
    if (description == null) {
      throw new IllegalArgumentException("no timer " + name + "; known: " + DESCRIPTIONS.keySet());
    }
    return Timer.builder(name)
        .description(description)
        .publishPercentileHistogram()
        .minimumExpectedValue(Duration.ofNanos(10_000))
        .maximumExpectedValue(Duration.ofSeconds(30))
        .register(registry());
  }

  public static void sessions(Role role, String node, Supplier<Number> count) {
    Gauge.builder(SESSIONS, count).tag("role", role.id()).tag("node", node).register(registry());
  }

  public static void recognizers(String node, Supplier<Number> count) {
    Gauge.builder(STT_RECOGNIZERS, count).tag("node", node)
        .description("streams this STT node holds, closed ones still finishing included")
        .register(registry());
  }

  public static void standbyStreams(String node, Supplier<Number> count) {
    Gauge.builder(STT_STANDBY_STREAMS, count).tag("node", node)
        .description("hot-standby streams this STT node decodes beside another node's, included in voicemesh_sessions")
        .register(registry());
  }

  /**
   * A new recognizer decodes its first seconds several times slower than one that has decoded
   * speech: with none warm, a node's next stream, or a failover replay onto it, starts slow.
   */
  public static void warmRecognizers(Supplier<Number> count) {
    Gauge.builder(STT_WARM_RECOGNIZERS, count)
        .description("idle speech recognizers that have decoded speech, ready to start a stream at full speed")
        .register(registry());
  }

  /** A stream holds a recognizer only while its audio is not quiet: this is what the node's memory and CPU follow. */
  public static void busyRecognizers(Supplier<Number> count) {
    Gauge.builder(STT_BUSY_RECOGNIZERS, count)
        .description("speech recognizers decoding a stream's audio now; a stream in a quiet stretch holds none")
        .register(registry());
  }

  public static void error(ErrorCode code) {
    registry().counter(ERRORS, "code", code.wire()).increment();
  }
}
