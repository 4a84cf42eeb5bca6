package io.voicemesh.gateway;

/**
 * When the user's turn ended, in {@link System#nanoTime()} at this gateway: when the last of the
 * user's speech arrived, when the audio that ended the turn arrived (the end of the silence, or
 * the commit), and when the final transcript came back. -1 where the time is not known.
 */
record TurnClock(long speechEndNanos, long turnEndNanos, long finalNanos) {
  /** A turn that begins now with no speech before it: a typed message, or a respond the client asked for. */
  static TurnClock now() {
    long now = System.nanoTime();
    return new TurnClock(now, now, now);
  }
}
