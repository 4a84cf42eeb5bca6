package io.voicemesh.launcher.worker;

import io.vertx.core.json.JsonObject;

/**
 * How a speech worker serves: {@code voicemesh.worker} of the configuration, plus the settings of
 * the engines it runs (under {@code voicemesh.stt.<name>} and {@code voicemesh.tts.<name>}). A
 * non-loopback {@code host} needs a token or {@code insecure} ({@link WorkerAccess#checkExposure}).
 */
public record WorkerSettings(String host, WorkerAccess access, int grpcPort, String workerId, int maxSessions, long maxBufferBytes,
    int reorderWindow, long idleTimeoutMs, long drainMs, int workerThreads, String language, int chunkMs,
    String sttEngine, JsonObject sttConfig, String ttsEngine, JsonObject ttsConfig) {

  public WorkerSettings {
    if (maxSessions < 1 || maxBufferBytes < 1 || reorderWindow < 1 || drainMs < 0 || workerThreads < 1
        || chunkMs < 10 || idleTimeoutMs < 1000) {
      throw new IllegalArgumentException("worker: maxSessions, maxBufferBytes, reorderWindow and workerThreads "
          + "must be positive, drainMs not negative, chunkMs at least 10 and idleTimeoutMs at least 1000");
    }
    access.checkExposure(host);
  }

  /** From the {@code voicemesh.worker} section and the engines' sections beside it. */
  public static WorkerSettings from(JsonObject worker, JsonObject stt, JsonObject tts, String defaultId) {
    String sttEngine = worker.getString("sttEngine", "vosk");
    String ttsEngine = worker.getString("ttsEngine", "freetts");
    String id = worker.getString("id", "");
    return new WorkerSettings(worker.getString("host", "127.0.0.1"), WorkerAccess.from(worker),
        worker.getInteger("grpcPort", 50051), id.isBlank() ? defaultId : id, worker.getInteger("maxSessions", 10),
        worker.getLong("maxBufferBytes", 10L * 1024 * 1024), worker.getInteger("reorderWindow", 1024),
        worker.getLong("idleTimeoutMs", 30_000L), worker.getLong("drainMs", 5_000L),
        worker.getInteger("workerThreads", 4), worker.getString("language", "en-US"), worker.getInteger("chunkMs", 100),
        sttEngine, stt.getJsonObject(sttEngine, new JsonObject()), ttsEngine, tts.getJsonObject(ttsEngine, new JsonObject()));
  }
}
