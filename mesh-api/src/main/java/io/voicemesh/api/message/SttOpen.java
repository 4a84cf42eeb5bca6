package io.voicemesh.api.message;

/**
 * Asks an STT worker to take a session's audio stream. The worker registers a stream address
 * ({@code Addresses.sttStream}), answers it in {@link SttOpened}, and sends {@link SttEvent}s to
 * {@code eventsAddress}.
 *
 * Every event carries the stream's address in the {@value #STREAM_HEADER} header, so the gateway can
 * tell a replaced stream's late events from the current one's.
 *
 * @param silenceMs trailing silence that ends the user's turn
 * @param minSpeechMs voiced audio needed before it counts as speech (a cough does not)
 * @param gatewayNode the node of the connection; if it leaves the cluster, the stream is closed
 * @param userId the user the stream serves: a user may hold at most its share of a node's streams
 * @param tokenId identifies the token the connection came with (its {@code jti}, or a hash of it; never the
 *     token itself): a token may hold at most its share of a node's streams
 */
public record SttOpen(String sessionId, String eventsAddress, int sampleRateHz, int silenceMs, int minSpeechMs,
    String gatewayNode, String userId, String tokenId) {
  public static final String STREAM_HEADER = "stream";
}
