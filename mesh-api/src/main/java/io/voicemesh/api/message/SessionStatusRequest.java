package io.voicemesh.api.message;

/** Asks a gateway for a session's status ({@code Addresses.SESSION_STATUS}). */
public record SessionStatusRequest(String sessionId) {
}
