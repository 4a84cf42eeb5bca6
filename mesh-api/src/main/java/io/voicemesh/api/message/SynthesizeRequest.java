package io.voicemesh.api.message;

/**
 * One sentence to speak. Audio chunks go to {@code replyAddress} tagged with an
 * {@link AudioChunkHeader}; the request's reply is a {@link SynthesizeDone} sent after the last chunk.
 */
public record SynthesizeRequest(String sessionId, String turnId, int sentence, String text, String voice,
    String replyAddress) {
}
