package io.voicemesh.api.message;

import io.vertx.core.MultiMap;
import io.vertx.core.eventbus.DeliveryOptions;

/**
 * Identifies a chunk of synthesized audio and the node that made it. The body of such a message is
 * the raw PCM16LE {@code Buffer}; this travels in the message headers so audio is never JSON-encoded.
 */
public record AudioChunkHeader(String turnId, int sentence, int chunk, int sampleRateHz, String node) {
  private static final String TURN = "turn";
  private static final String SENTENCE = "sentence";
  private static final String CHUNK = "chunk";
  private static final String RATE = "rate";
  private static final String NODE = "node";

  public DeliveryOptions toDeliveryOptions() {
    return new DeliveryOptions()
        .addHeader(TURN, turnId)
        .addHeader(SENTENCE, Integer.toString(sentence))
        .addHeader(CHUNK, Integer.toString(chunk))
        .addHeader(RATE, Integer.toString(sampleRateHz))
        .addHeader(NODE, node);
  }

  public static AudioChunkHeader from(MultiMap headers) {
    return new AudioChunkHeader(headers.get(TURN), Integer.parseInt(headers.get(SENTENCE)),
        Integer.parseInt(headers.get(CHUNK)), Integer.parseInt(headers.get(RATE)), headers.get(NODE));
  }
}
