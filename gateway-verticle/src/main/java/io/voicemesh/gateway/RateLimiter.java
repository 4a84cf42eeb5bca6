package io.voicemesh.gateway;

/**
 * A token bucket: {@code ratePerSecond} units refill continuously up to {@code burst}. Used per
 * connection for audio bytes and for text messages, so a flood costs its sender, nobody else.
 */
final class RateLimiter {
  private final double ratePerNano;
  private final double burst;
  private double tokens;
  private long lastNanos;

  RateLimiter(double ratePerSecond, double burst) {
    if (ratePerSecond <= 0 || burst <= 0) {
      throw new IllegalArgumentException("ratePerSecond and burst must be positive");
    }
    this.ratePerNano = ratePerSecond / 1e9;
    this.burst = burst;
    this.tokens = burst;
    this.lastNanos = System.nanoTime();
  }

  /** Takes {@code units} if available. */
  boolean tryAcquire(double units) {
    long now = System.nanoTime();
    tokens = Math.min(burst, tokens + (now - lastNanos) * ratePerNano);
    lastNanos = now;
    if (tokens < units) {
      return false;
    }
    tokens -= units;
    return true;
  }
}
