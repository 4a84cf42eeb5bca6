package io.voicemesh.api.message;

import java.util.List;

/** Reply to {@code EventReplay}: the events, and whether more follow after the last one. */
public record EventPage(List<LoggedEvent> events, boolean more) {
}
