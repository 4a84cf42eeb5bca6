package io.voicemesh.api.message;

import io.vertx.core.json.JsonObject;

/** One call of a tool within a turn; {@code callId} pairs its start with its outcome. */
public record ToolCall(String callId, String name, JsonObject arguments) {
}
