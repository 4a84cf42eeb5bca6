package io.voicemesh.stt;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.voicemesh.api.engine.SttEngine;
import io.voicemesh.api.engine.SttEngineProvider;
import io.voicemesh.api.grpc.SpeechWorkers;
import java.util.concurrent.TimeUnit;

/**
 * {@code grpc}: speech workers over gRPC. Config: {@code workers}, {@code healthIntervalMs},
 * {@code callTimeoutMs} (see {@link SpeechWorkers#start(Vertx, JsonObject)}; sessions go
 * round-robin to the healthy workers), {@code finalTimeoutMs} (default 5000), {@code language}
 * (default: the worker's own).
 */
public final class GrpcSttEngineProvider implements SttEngineProvider {
  @Override
  public String name() {
    return "grpc";
  }

  @Override
  public SttEngine create(Vertx vertx, JsonObject config) throws Exception {
    SpeechWorkers workers = SpeechWorkers.start(vertx, config).toCompletionStage().toCompletableFuture().get(1, TimeUnit.MINUTES);
    return new GrpcSttEngine(workers, config.getString("language", ""), config.getLong("finalTimeoutMs", 5000L));
  }
}
