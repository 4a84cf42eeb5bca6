package io.voicemesh.api.message;

/**
 * A sentence is fully synthesized: {@code chunks} chunks of PCM16LE at {@code sampleRateHz} were
 * sent by {@code node}.
 */
public record SynthesizeDone(int chunks, int sampleRateHz, long audioMs, String node) {
}
