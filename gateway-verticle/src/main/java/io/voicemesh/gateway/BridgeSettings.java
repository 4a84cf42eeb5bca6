package io.voicemesh.gateway;

import io.vertx.core.json.JsonObject;

/**
 * The event-bus bridge's settings ({@code gateway.bridge}): whether {@code /eventbus} is served,
 * the opt-in TCP bridge port (0: off) and what one bridge connection may hold.
 */
record BridgeSettings(boolean enabled, int tcpPort, int maxRegistrations, double inboundPerSecond, int inboundBurst,
    long pingTimeoutMs) {

  static BridgeSettings from(JsonObject c) {
    BridgeSettings s = new BridgeSettings(
        c.getBoolean("enabled", true),
        c.getInteger("tcpPort", 0),
        c.getInteger("maxRegistrations", 100),
        c.getDouble("inboundPerSecond", 10.0),
        c.getInteger("inboundBurst", 20),
        c.getLong("pingTimeoutMs", 30_000L));
    if (s.tcpPort < 0 || s.tcpPort > 65_535 || s.maxRegistrations < 1 || s.inboundPerSecond <= 0 || s.inboundBurst < 1
        || s.pingTimeoutMs < 1_000) {
      throw new IllegalArgumentException("invalid gateway.bridge configuration: " + s);
    }
    return s;
  }
}
