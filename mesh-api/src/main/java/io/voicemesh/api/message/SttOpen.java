package io.voicemesh.api.message;

import io.voicemesh.api.engine.EndOfTurn;

/**
 * Asks an STT worker to take a session's audio stream. The worker answers with the stream's id on
 * its node's stream address ({@link SttOpened}) and sends {@link SttEvent}s to {@code eventsAddress}.
 *
 * Every frame and control to the node, and every event from it, carries the stream's id in the
 * {@value #STREAM_HEADER} header: the node routes by it, and the gateway tells a replaced stream's
 * late events from the current one's.
 *
 * @param silenceMs trailing silence that ends the user's turn whatever was said (the maximum)
 * @param minSpeechMs voiced audio needed before it counts as speech (a cough does not)
 * @param gatewayNode the node of the connection; if it leaves the cluster, the stream is closed
 * @param userId the user the stream serves: a user may hold at most its share of a node's streams
 * @param tokenId identifies the token the connection came with (its {@code jti}, or a hash of it; never the
 *     token itself): a token may hold at most its share of a node's streams
 * @param inSpeech the stream continues an utterance already under way (a stream moved from a lost
 *     node mid-speech, its audio replayed from just before the speech began): the worker treats the
 *     audio as speech from its first frame, so the replay's first words come back as partials at
 *     once instead of after another {@code minSpeechMs} of voiced audio
 * @param minSilenceMs trailing silence that ends a turn whose words sound complete (see
 *     {@link EndOfTurn}); 0, or {@code silenceMs} or more: silence alone decides
 * @param standby a hot standby of the session's stream: the same audio, decoded on a second node so
 *     that it can take over at once when the first dies. A node never holds both streams of one
 *     session: it refuses a standby where it serves the session's stream, and a stream opened where
 *     the session's standby is replaces the standby
 * @param openId names this request (null: none): the same open sent twice (opens raced when a
 *     stream moves, a retry after a timeout) gets the same stream from a node that has it, instead of
 *     a second stream that closes the first
 */
public record SttOpen(String sessionId, String eventsAddress, int sampleRateHz, int silenceMs, int minSpeechMs,
    String gatewayNode, String userId, String tokenId, boolean inSpeech, int minSilenceMs, boolean standby,
    String openId) {
  public static final String STREAM_HEADER = "stream";
  /** Where a frame's stream sends its events: a node that does not know the stream says so there. */
  public static final String EVENTS_HEADER = "events";

  /** How the stream decides the end of a turn. */
  public EndOfTurn endOfTurn() {
    return EndOfTurn.forStream(minSilenceMs, silenceMs);
  }

  /** A stream that starts in silence, as every new one does. */
  public SttOpen(String sessionId, String eventsAddress, int sampleRateHz, int silenceMs, int minSpeechMs,
      String gatewayNode, String userId, String tokenId) {
    this(sessionId, eventsAddress, sampleRateHz, silenceMs, minSpeechMs, gatewayNode, userId, tokenId, false, 0, false,
        null);
  }
}
