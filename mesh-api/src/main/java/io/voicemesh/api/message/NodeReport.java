package io.voicemesh.api.message;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * One message on {@code dashboard.nodes}: a node's own status, published by the node once a second.
 * {@code roles} maps each of its roles to {@code {status, active, capacity}} as {@code /health} shows
 * them; {@code eventLoopDelayMs} is how late the node's last one-second timer fired (a busy or
 * blocked event loop shows here first); {@code members} are the cluster's nodes as this node sees
 * them ({@code {node, roles}}). {@code ts} is epoch ms.
 */
public record NodeReport(String node, String status, JsonObject roles, long heapUsedBytes, long heapMaxBytes,
    double eventLoopDelayMs, JsonArray members, long ts) {
}
