package io.voicemesh.api.message;

import java.util.List;

/**
 * The sessions one gateway node has connections to (speakers and listeners), sent periodically in one
 * message per node: the session role keeps them from ending as idle ({@code session.idleEndMs}).
 */
public record SessionTouch(List<String> sessionIds) {
}
