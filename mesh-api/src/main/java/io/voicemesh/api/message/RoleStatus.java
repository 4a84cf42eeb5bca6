package io.voicemesh.api.message;

/** A node's answer on {@code Addresses.health(role)}: whether the role is ready and how loaded. */
public record RoleStatus(String role, String node, boolean ready, int active, int capacity) {
}
