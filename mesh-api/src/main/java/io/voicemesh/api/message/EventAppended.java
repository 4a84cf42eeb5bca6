package io.voicemesh.api.message;

/** Reply to {@code EventAppend}: how many events were stored (fewer than sent: the writer was fenced out). */
public record EventAppended(int stored) {
}
