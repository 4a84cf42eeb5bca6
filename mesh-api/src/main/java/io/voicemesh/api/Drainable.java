package io.voicemesh.api;

import io.vertx.core.Future;

/**
 * A role that can stop gracefully: when its node is told to stop (SIGTERM), it takes no new work,
 * finishes or hands over what it holds, and only then lets the node close.
 */
public interface Drainable {

  /**
   * Stops taking new work and finishes (or hands elsewhere) what is in flight, by
   * {@code deadlineMillis} (epoch ms) at the latest. May be called from any thread; the future
   * completes once nothing of this role is left running (or the deadline has passed).
   */
  Future<Void> drain(long deadlineMillis);
}
