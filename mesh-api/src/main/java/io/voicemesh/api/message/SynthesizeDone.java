package io.voicemesh.api.message;

/** A sentence is fully synthesized: {@code chunks} chunks of PCM16LE at {@code sampleRateHz} were sent. */
public record SynthesizeDone(int chunks, int sampleRateHz, long audioMs) {
}
