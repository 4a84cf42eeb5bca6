package io.voicemesh.api.message;

import java.util.Map;

/**
 * A node's answer on {@code Addresses.health(role)}: whether the role is ready and how loaded;
 * for a role on remote speech workers, each worker's address and what its health check last said.
 * {@code degraded} (null when all is well) says why a ready role works only in part: the session
 * role whose database does not answer still answers itself, and the gateways carry conversations on.
 */
public record RoleStatus(String role, String node, boolean ready, int active, int capacity, Map<String, String> workers,
    String degraded, KafkaRelayStatus kafka) {

  /** {@code kafka}: the session role's Kafka relay, null on other roles and without Kafka. */
  public RoleStatus(String role, String node, boolean ready, int active, int capacity, Map<String, String> workers,
      String degraded) {
    this(role, node, ready, active, capacity, workers, degraded, null);
  }

  public RoleStatus(String role, String node, boolean ready, int active, int capacity) {
    this(role, node, ready, active, capacity, Map.of(), null);
  }

  public RoleStatus(String role, String node, boolean ready, int active, int capacity, Map<String, String> workers) {
    this(role, node, ready, active, capacity, workers, null);
  }

  public RoleStatus withKafka(KafkaRelayStatus kafka) {
    return new RoleStatus(role, node, ready, active, capacity, workers, degraded, kafka);
  }

  /** How {@code /health} shows the role: UP, DEGRADED (ready, with a reason) or DOWN. */
  public String health() {
    return !ready ? "DOWN" : degraded != null ? "DEGRADED" : "UP";
  }
}
