package io.voicemesh.api.message;

import java.util.Map;

/**
 * A node's answer on {@code Addresses.health(role)}: whether the role is ready and how loaded;
 * for a role on remote speech workers, each worker's address and what its health check last said.
 */
public record RoleStatus(String role, String node, boolean ready, int active, int capacity, Map<String, String> workers) {

  public RoleStatus(String role, String node, boolean ready, int active, int capacity) {
    this(role, node, ready, active, capacity, Map.of());
  }
}
