package io.voicemesh.api.message;

/** Published on {@code llm.cancel} and {@code tts.cancel}: stop all work of the turn. */
public record TurnCancel(String turnId) {
}
