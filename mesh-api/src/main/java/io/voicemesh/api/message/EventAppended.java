package io.voicemesh.api.message;

/**
 * Reply to {@code EventAppend}: how many events were newly stored, and whether the writer still
 * holds the session's writer role (false: another connection took over, or the session ended).
 */
public record EventAppended(int stored, boolean writer) {
}
