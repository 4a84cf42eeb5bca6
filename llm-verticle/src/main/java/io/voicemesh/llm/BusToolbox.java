package io.voicemesh.llm;

import io.vertx.core.Future;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.json.JsonObject;
import io.voicemesh.api.Addresses;
import io.voicemesh.api.Bus;
import io.voicemesh.api.ErrorCode;
import io.voicemesh.api.MeshException;
import io.voicemesh.api.engine.Toolbox;
import io.voicemesh.api.message.ToolSpec;
import java.util.List;

/** An agent's tools, each a request to its event-bus address, wherever in the mesh it is served. */
record BusToolbox(EventBus bus, List<ToolSpec> specs, long timeoutMs) implements Toolbox {

  @Override
  public Future<JsonObject> call(String name, JsonObject arguments) {
    if (!has(name)) {
      return Future.failedFuture(new MeshException(ErrorCode.BAD_REQUEST, "this agent has no tool '" + name + "'"));
    }
    return Bus.request(bus, Addresses.tool(name), arguments == null ? new JsonObject() : arguments, JsonObject.class,
        timeoutMs);
  }
}
