package io.voicemesh.tts;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.voicemesh.api.engine.TtsEngine;
import io.voicemesh.api.engine.TtsEngineProvider;
import io.voicemesh.api.grpc.SpeechWorkers;
import java.util.concurrent.TimeUnit;

/**
 * {@code grpc}: speech workers over gRPC. Config: {@code workers}, {@code healthIntervalMs},
 * {@code callTimeoutMs} (see {@link SpeechWorkers#start(Vertx, JsonObject)}; sentences go
 * round-robin to the healthy workers), {@code sampleRateHz} (asked of the workers, default 16000),
 * {@code chunkTimeoutMs} (longest wait for the next piece of audio, default 5000).
 */
public final class GrpcTtsEngineProvider implements TtsEngineProvider {
  @Override
  public String name() {
    return "grpc";
  }

  @Override
  public TtsEngine create(Vertx vertx, JsonObject config) throws Exception {
    SpeechWorkers workers = SpeechWorkers.start(vertx, config).toCompletionStage().toCompletableFuture().get(1, TimeUnit.MINUTES);
    return new GrpcTtsEngine(workers, config.getInteger("sampleRateHz", 16_000), config.getLong("chunkTimeoutMs", 5000L));
  }
}
