package io.voicemesh.api.message;

import java.util.List;

/** The reply to {@code SessionList}. */
public record SessionPage(List<SessionInfo> sessions) {
}
