package io.voicemesh.llm;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.voicemesh.api.Addresses;
import io.voicemesh.api.Bus;
import io.voicemesh.api.Drainable;
import io.voicemesh.api.ErrorCode;
import io.voicemesh.api.Json;
import io.voicemesh.api.MeshException;
import io.voicemesh.api.MeshMetrics;
import io.voicemesh.api.Role;
import io.voicemesh.api.engine.Engines;
import io.voicemesh.api.engine.Generation;
import io.voicemesh.api.engine.GenerationListener;
import io.voicemesh.api.engine.LlmEngine;
import io.voicemesh.api.engine.LlmEngineProvider;
import io.voicemesh.api.engine.Toolbox;
import io.voicemesh.api.message.GenerateRequest;
import io.voicemesh.api.message.LlmEvent;
import io.voicemesh.api.message.RoleStatus;
import io.voicemesh.api.message.ToolCall;
import io.voicemesh.api.message.ToolSpec;
import io.voicemesh.api.message.TurnCancel;
import java.time.Clock;
import java.time.ZoneId;
import io.vertx.core.eventbus.DeliveryOptions;
import java.util.ArrayList;
import java.util.function.Consumer;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The LLM role: stateless agent workers. Each configured agent names its engine; a
 * {@code GenerateRequest} is acknowledged at once, then answered as a stream of {@code LlmEvent}s
 * to the request's reply address.
 *
 * <p>Config: {@code agents}: {@code {"<name>": {"engine": "builtin"|"openai", "tools": […], …engine
 * settings}}} (default: one {@code default} agent on {@code builtin}). An agent's {@code tools} lists
 * builtin tool names ({@code get_current_time}, {@code calculate}) and full {@code ToolSpec}s of
 * tools other services serve on {@code tool.<name>}; a builtin agent defaults to the builtin tools.
 * {@code timeZone} (for {@code get_current_time}, default the system's); {@code toolTimeoutMs}
 * (default 10000); {@code capacity} (concurrent turns, default 200); {@code node}.
 *
 * <p>{@link #drain}: the node is stopping. It stops taking turns (gateways reach other LLM nodes)
 * and lets the ones running finish.
 */
public final class LlmVerticle extends VerticleBase implements Drainable {
  private final Map<String, LlmEngine> agents = new HashMap<>();
  private final Map<String, Toolbox> toolboxes = new HashMap<>();
  private final Map<String, Generation> running = new HashMap<>();
  private int capacity;
  private MessageConsumer<Object> generator;
  /** Set while draining: completed once no turn runs here any more. */
  private Promise<Void> idle;

  @Override
  public Future<?> start() {
    JsonObject agentConfigs = config().getJsonObject("agents",
        new JsonObject().put("default", new JsonObject().put("engine", "builtin")));
    capacity = config().getInteger("capacity", 200);
    String node = config().getString("node", "local");
    String timeZone = config().getString("timeZone", "");
    ZoneId zone = timeZone.isBlank() ? ZoneId.systemDefault() : ZoneId.of(timeZone);
    long toolTimeoutMs = config().getLong("toolTimeoutMs", 10_000L);
    EventBus bus = vertx.eventBus();
    MeshMetrics.sessions(Role.LLM, node, running::size);
    return vertx.executeBlocking(() -> {
      for (String name : agentConfigs.fieldNames()) {
        JsonObject agent = agentConfigs.getJsonObject(name);
        String engine = agent.getString("engine", "builtin");
        agents.put(name, Engines.create(LlmEngineProvider.class, engine, vertx, agent));
        JsonArray tools = agent.getJsonArray("tools", engine.equals("builtin")
            ? new JsonArray(List.copyOf(BuiltinTools.SPECS.keySet())) : new JsonArray());
        toolboxes.put(name, new BusToolbox(bus, toolSpecs(name, tools), toolTimeoutMs));
      }
      return null;
    }).compose(v -> {
      List<MessageConsumer<Object>> consumers = new ArrayList<>(new BuiltinTools(Clock.system(zone)).serve(bus));
      generator = Bus.serve(bus, Addresses.LLM_GENERATE, GenerateRequest.class, this::generate);
      consumers.add(generator);
      consumers.add(Bus.serve(bus, Addresses.LLM_CANCEL, TurnCancel.class, this::cancel));
      consumers.addAll(Bus.serveStatus(bus, Role.LLM,
          () -> Future.succeededFuture(new RoleStatus(Role.LLM.id(), node, true, running.size(), capacity))));
      return Future.all(consumers.stream().map(MessageConsumer::completion).toList());
    });
  }

  private static List<ToolSpec> toolSpecs(String agent, JsonArray tools) {
    List<ToolSpec> specs = new ArrayList<>();
    for (Object tool : tools) {
      if (tool instanceof String name && BuiltinTools.SPECS.containsKey(name)) {
        specs.add(BuiltinTools.SPECS.get(name));
      } else if (tool instanceof JsonObject spec && spec.getString("name") != null) {
        specs.add(new ToolSpec(spec.getString("name"), spec.getString("description", ""),
            spec.getJsonObject("parameters", new JsonObject().put("type", "object"))));
      } else {
        throw new IllegalArgumentException("agent '" + agent + "': a tool is a builtin name "
            + BuiltinTools.SPECS.keySet() + " or an object with name, description and parameters; got " + tool);
      }
    }
    return specs;
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
    if (idle != null) {
      return Future.failedFuture(new MeshException(ErrorCode.CAPACITY, "this LLM node is stopping"));
    }
    if (running.size() >= capacity) {
      return Future.failedFuture(new MeshException(ErrorCode.CAPACITY, "this LLM node runs " + capacity + " turns already"));
    }
    EventBus bus = vertx.eventBus();
    DeliveryOptions attempt = new DeliveryOptions()
        .addHeader(GenerateRequest.ATTEMPT_HEADER, Integer.toString(request.attempt()));
    Consumer<LlmEvent> send = event -> bus.send(request.replyAddress(), Json.encode(event), attempt);
    long[] seq = {0};
    Generation generation = engine.generate(request, toolboxes.get(request.agent()), new GenerationListener() {
      @Override
      public void delta(String text) {
        send.accept(new LlmEvent.LlmDelta(request.turnId(), seq[0]++, text));
      }

      @Override
      public void toolStarted(ToolCall call) {
        send.accept(new LlmEvent.ToolStarted(request.turnId(), seq[0]++, call));
      }

      @Override
      public void toolFinished(ToolCall call, JsonObject result, Throwable failure) {
        MeshException error = failure == null ? null : MeshException.from(failure);
        send.accept(new LlmEvent.ToolFinished(request.turnId(), seq[0]++, call, result,
            error == null ? null : error.code(), error == null ? null : error.getMessage()));
      }

      @Override
      public void clientToolCall(ToolCall call) {
        send.accept(new LlmEvent.ClientToolCall(request.turnId(), seq[0]++, call));
      }
    });
    running.put(request.turnId(), generation);
    generation.result()
        .onComplete(done -> running.remove(request.turnId(), generation))
        .onSuccess(text -> send.accept(new LlmEvent.LlmDone(request.turnId(), seq[0]++, text)))
        .onFailure(e -> {
          MeshException failure = MeshException.from(e);
          send.accept(new LlmEvent.LlmFailed(request.turnId(), seq[0]++, failure.code(), failure.getMessage()));
        })
        // Only once its last event is on its way may a draining node count the turn as done.
        .onComplete(sent -> settleIfIdle());
    return Future.succeededFuture(new JsonObject().put("node", config().getString("node", "local")));
  }

  private Future<Void> cancel(TurnCancel cancel) {
    Generation generation = running.remove(cancel.turnId());
    if (generation != null) {
      generation.cancel();
    }
    settleIfIdle();
    return Future.succeededFuture();
  }

  /** Stops taking turns; completes when the running ones have ended, or at the deadline (then they are cancelled). */
  @Override
  public Future<Void> drain(long deadlineMillis) {
    Promise<Void> drained = Promise.promise();
    context.runOnContext(v -> {
      if (idle == null) {
        idle = Promise.promise();
        Future<Void> closed = generator == null ? Future.succeededFuture() : generator.unregister();
        long timer = vertx.setTimer(Math.max(1, deadlineMillis - System.currentTimeMillis()), t -> {
          List.copyOf(running.values()).forEach(Generation::cancel);
          idle.tryComplete();
        });
        closed.onComplete(unregistered -> settleIfIdle());
        idle.future().onComplete(done -> vertx.cancelTimer(timer));
      }
      idle.future().onComplete(drained);
    });
    return drained.future();
  }

  private void settleIfIdle() {
    if (idle != null && running.isEmpty()) {
      idle.tryComplete();
    }
  }

  @Override
  public Future<?> stop() {
    running.values().forEach(Generation::cancel);
    agents.values().forEach(LlmEngine::close);
    return Future.succeededFuture();
  }
}
