package io.voicemesh.llm;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import io.voicemesh.api.Addresses;
import io.voicemesh.api.Bus;
import io.voicemesh.api.ErrorCode;
import io.voicemesh.api.Json;
import io.voicemesh.api.MeshException;
import io.voicemesh.api.Role;
import io.voicemesh.api.engine.Engines;
import io.voicemesh.api.engine.Generation;
import io.voicemesh.api.engine.LlmEngine;
import io.voicemesh.api.engine.LlmEngineProvider;
import io.voicemesh.api.message.GenerateRequest;
import io.voicemesh.api.message.LlmEvent;
import io.voicemesh.api.message.RoleStatus;
import io.voicemesh.api.message.TurnCancel;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The LLM role: stateless agent workers. Each configured agent names its engine; a
 * {@code GenerateRequest} is acknowledged at once, then answered as a stream of {@code LlmEvent}s
 * to the request's reply address.
 *
 * <p>Config: {@code agents}: {@code {"<name>": {"engine": "builtin"|"openai", …engine settings}}}
 * (default: one {@code default} agent on {@code builtin}); {@code capacity} (concurrent turns,
 * default 200); {@code node}.
 */
public final class LlmVerticle extends VerticleBase {
  private final Map<String, LlmEngine> agents = new HashMap<>();
  private final Map<String, Generation> running = new HashMap<>();
  private int capacity;

  @Override
  public Future<?> start() {
    JsonObject agentConfigs = config().getJsonObject("agents",
        new JsonObject().put("default", new JsonObject().put("engine", "builtin")));
    capacity = config().getInteger("capacity", 200);
    String node = config().getString("node", "local");
    return vertx.executeBlocking(() -> {
      for (String name : agentConfigs.fieldNames()) {
        JsonObject agent = agentConfigs.getJsonObject(name);
        agents.put(name, Engines.create(LlmEngineProvider.class, agent.getString("engine", "builtin"), vertx, agent));
      }
      return null;
    }).compose(v -> {
      EventBus bus = vertx.eventBus();
      List<MessageConsumer<Object>> consumers = List.of(
          Bus.serve(bus, Addresses.LLM_GENERATE, GenerateRequest.class, this::generate),
          Bus.serve(bus, Addresses.LLM_CANCEL, TurnCancel.class, this::cancel),
          Bus.serve(bus, Addresses.health(Role.LLM), JsonObject.class,
              ignored -> Future.succeededFuture(new RoleStatus(Role.LLM.id(), node, true, running.size(), capacity))));
      return Future.all(consumers.stream().map(MessageConsumer::completion).toList());
    });
  }

  /** Accepts the turn (the reply), then streams its events to the request's reply address. */
  private Future<JsonObject> generate(GenerateRequest request) {
    LlmEngine engine = agents.get(request.agent());
    if (engine == null) {
      return Future.failedFuture(new MeshException(ErrorCode.BAD_REQUEST,
          "unknown agent '" + request.agent() + "'; configured: " + agents.keySet()));
    }
    if (request.turnId() == null || request.replyAddress() == null || request.messages() == null) {
      return Future.failedFuture(new MeshException(ErrorCode.BAD_REQUEST, "llm.generate needs turnId, replyAddress and messages"));
    }
    if (running.size() >= capacity) {
      return Future.failedFuture(new MeshException(ErrorCode.CAPACITY, "this LLM node runs " + capacity + " turns already"));
    }
    EventBus bus = vertx.eventBus();
    long[] seq = {0};
    Generation generation = engine.generate(request, delta -> bus.send(request.replyAddress(),
        Json.encode(new LlmEvent.LlmDelta(request.turnId(), seq[0]++, delta))));
    running.put(request.turnId(), generation);
    generation.result()
        .onComplete(done -> running.remove(request.turnId(), generation))
        .onSuccess(text -> bus.send(request.replyAddress(), Json.encode(new LlmEvent.LlmDone(request.turnId(), seq[0]++, text))))
        .onFailure(e -> {
          MeshException failure = MeshException.from(e);
          bus.send(request.replyAddress(), Json.encode(
              new LlmEvent.LlmFailed(request.turnId(), seq[0]++, failure.code(), failure.getMessage())));
        });
    return Future.succeededFuture(new JsonObject().put("node", config().getString("node", "local")));
  }

  private Future<Void> cancel(TurnCancel cancel) {
    Generation generation = running.remove(cancel.turnId());
    if (generation != null) {
      generation.cancel();
    }
    return Future.succeededFuture();
  }

  @Override
  public Future<?> stop() {
    running.values().forEach(Generation::cancel);
    agents.values().forEach(LlmEngine::close);
    return Future.succeededFuture();
  }
}
