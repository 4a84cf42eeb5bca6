package io.voicemesh.api.message;

import io.vertx.core.json.JsonObject;

/**
 * A tool an agent may call: served on {@code Addresses.tool(name)} by any node, described to the
 * model by {@code description} and the JSON schema of its arguments.
 */
public record ToolSpec(String name, String description, JsonObject parameters) {
}
