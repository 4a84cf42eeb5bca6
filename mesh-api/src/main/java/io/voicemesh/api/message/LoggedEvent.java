package io.voicemesh.api.message;

/** One client-visible event of a session as the event log holds it: its seq, type and exact JSON text. */
public record LoggedEvent(long seq, String type, String json) {
}
