package io.voicemesh.api.message;

/**
 * Asks an STT worker to take a session's audio stream. The worker registers a stream address
 * ({@code Addresses.sttStream}), answers it in {@link SttOpened}, and sends {@link SttEvent}s to
 * {@code eventsAddress}.
 *
 * @param silenceMs trailing silence that ends the user's turn
 * @param minSpeechMs voiced audio needed before it counts as speech (a cough does not)
 */
public record SttOpen(String sessionId, String eventsAddress, int sampleRateHz, int silenceMs, int minSpeechMs) {
}
