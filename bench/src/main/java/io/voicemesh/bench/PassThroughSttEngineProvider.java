package io.voicemesh.bench;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.voicemesh.api.engine.SttEngine;
import io.voicemesh.api.engine.SttEngineProvider;
import io.voicemesh.api.engine.SttStream;

/**
 * {@code passthrough}: an STT engine that recognizes nothing and costs nothing, so a load test
 * measures the mesh (gateway, event bus, STT session, worker hand-off) and not a recognizer. Each
 * 20 ms window it receives carries the client's send time ({@link PcmClock}); the time from then
 * to here goes into {@link #LATENCY}.
 */
public final class PassThroughSttEngineProvider implements SttEngineProvider {
  /** Client send → this engine's {@code accept}, for every window while recording. */
  static final LatencyRecorder LATENCY = new LatencyRecorder();

  @Override
  public String name() {
    return "passthrough";
  }

  @Override
  public SttEngine create(Vertx vertx, JsonObject config) {
    return new SttEngine() {
      @Override
      public SttStream open(int sampleRateHz) {
        return new SttStream() {
          @Override
          public String accept(byte[] pcm, int length) {
            long now = System.nanoTime();
            if (length >= 16) {
              long sent = PcmClock.read(pcm);
              if (sent != 0) {
                LATENCY.record(now - sent);
              }
            }
            return "";
          }

          @Override
          public String finish() {
            return "";
          }

          @Override
          public void close() {
          }
        };
      }

      @Override
      public void close() {
      }
    };
  }
}
