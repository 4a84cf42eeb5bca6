package io.voicemesh.api.engine;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.voicemesh.api.message.ToolCall;
import io.voicemesh.api.message.ToolSpec;
import java.util.List;

/** The tools an agent may use in a turn. */
public interface Toolbox {

  List<ToolSpec> specs();

  /** Runs the tool once; fails with a {@code MeshException}. Never retried. */
  Future<JsonObject> call(String name, JsonObject arguments);

  /** Runs a call, announcing its start and its outcome to the listener. */
  default Future<JsonObject> run(ToolCall call, GenerationListener listener) {
    listener.toolStarted(call);
    return call(call.name(), call.arguments())
        .andThen(outcome -> listener.toolFinished(call, outcome.result(), outcome.cause()));
  }

  default boolean has(String name) {
    return specs().stream().anyMatch(spec -> spec.name().equals(name));
  }
}
