package io.voicemesh.api.engine;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.ServiceLoader;
import java.util.stream.Collectors;

/** Looks an engine up by the name in configuration. */
public final class Engines {
  private Engines() {
  }

  public static <E, P extends EngineProvider<E>> E create(Class<P> kind, String name, Vertx vertx,
      JsonObject config) throws Exception {
    ServiceLoader<P> providers = ServiceLoader.load(kind, kind.getClassLoader());
    for (P provider : providers) {
      if (provider.name().equals(name)) {
        return provider.create(vertx, config);
      }
    }
    String known = providers.stream().map(p -> p.get().name()).sorted().collect(Collectors.joining(", "));
    throw new IllegalArgumentException("unknown " + kind.getSimpleName().replace("Provider", "")
        + " '" + name + "'; available: " + known);
  }

  /**
   * A stage's fallback engine: the one its {@code fallbackEngine} setting names, configured under
   * that name in {@code stageConfig}; null when the setting is empty or names the stage's own
   * {@code engineName}. May block, like {@link #create}.
   */
  public static <E, P extends EngineProvider<E>> E createFallback(Class<P> kind, String engineName, Vertx vertx,
      JsonObject stageConfig) throws Exception {
    String name = stageConfig.getString("fallbackEngine", "");
    return name.isEmpty() || name.equals(engineName) ? null
        : create(kind, name, vertx, stageConfig.getJsonObject(name, new JsonObject()));
  }
}
