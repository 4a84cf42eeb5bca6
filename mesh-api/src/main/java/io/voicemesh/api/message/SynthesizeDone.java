package io.voicemesh.api.message;

/**
 * A sentence is fully synthesized: {@code chunks} chunks of PCM16LE at {@code sampleRateHz} were
 * sent by {@code node}. {@code warning}, when not null, is for the session: the sentence was not
 * spoken the way it should have been (its speech worker was lost and the embedded engine spoke it).
 */
public record SynthesizeDone(int chunks, int sampleRateHz, long audioMs, String node, String warning) {
}
