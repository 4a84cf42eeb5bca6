package io.voicemesh.launcher.worker;

import io.vertx.core.DeploymentOptions;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.voicemesh.launcher.ConfigOptions;
import io.voicemesh.launcher.Mesh;
import io.voicemesh.launcher.MeshConfig;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import sun.misc.Signal;

/**
 * {@code voicemesh worker --grpc-port P}: this machine's embedded speech engines as a gRPC speech
 * worker. SIGTERM or Ctrl-C drains it (see {@link SpeechWorkerVerticle#drain}) and it exits 0.
 */
@Command(name = "worker", mixinStandardHelpOptions = true,
    description = "Serve the embedded speech engines (Vosk, FreeTTS) over gRPC (speech_worker.proto) "
        + "for meshes whose stt/tts engine is grpc, or any other client.")
public final class WorkerCommand implements Callable<Integer> {
  private static final Logger LOG = LoggerFactory.getLogger(WorkerCommand.class);

  @Option(names = "--grpc-port", description = "port to serve gRPC on (default 50051, or voicemesh.worker.grpcPort; 0 picks one)")
  Integer grpcPort;

  @Option(names = "--host", description = "address to listen on (default 0.0.0.0, or voicemesh.worker.host)")
  String host;

  @Option(names = "--max-sessions", description = "concurrent sessions; beyond it CreateSession gets RESOURCE_EXHAUSTED "
      + "(default 10)")
  Integer maxSessions;

  @Option(names = "--max-buffer-bytes", description = "audio a session may have waiting before its stream fails with "
      + "RESOURCE_EXHAUSTED (default 10485760)")
  Long maxBufferBytes;

  @Option(names = "--drain-ms", description = "on SIGTERM, how long open streams get to finish (default 5000)")
  Long drainMs;

  @Option(names = "--worker-id", description = "this worker's name in health checks (default: host name and process id)")
  String workerId;

  @Mixin
  ConfigOptions options;

  @Override
  public Integer call() throws Exception {
    Map<String, Object> overrides = new HashMap<>();
    put(overrides, "voicemesh.worker.grpcPort", grpcPort);
    put(overrides, "voicemesh.worker.host", host);
    put(overrides, "voicemesh.worker.maxSessions", maxSessions);
    put(overrides, "voicemesh.worker.maxBufferBytes", maxBufferBytes);
    put(overrides, "voicemesh.worker.drainMs", drainMs);
    put(overrides, "voicemesh.worker.id", workerId);
    return serveUntilStopped(options.load(overrides));
  }

  private static void put(Map<String, Object> overrides, String key, Object value) {
    if (value != null) {
      overrides.put(key, value);
    }
  }

  static int serveUntilStopped(MeshConfig config) throws Exception {
    WorkerSettings settings = WorkerSettings.from(config.section("worker"), Mesh.sttConfig(config, config.node()),
        config.section("tts"), config.node());
    Vertx vertx = Vertx.vertx(new VertxOptions()
        .setMaxEventLoopExecuteTime(config.maxEventLoopExecuteTimeMs())
        .setMaxEventLoopExecuteTimeUnit(TimeUnit.MILLISECONDS));
    SpeechWorkerVerticle worker = new SpeechWorkerVerticle(settings);
    try {
      vertx.deployVerticle(worker, new DeploymentOptions()).await(10, TimeUnit.MINUTES);
    } catch (Exception e) {
      vertx.close().await(30, TimeUnit.SECONDS);
      throw e;
    }
    System.out.println("VoiceMesh speech worker " + settings.workerId() + " listening on " + settings.host() + ":"
        + worker.port());
    // SIGTERM is how Kubernetes and process managers stop a worker: handled here, not by a shutdown
    // hook, so the drain runs on a live JVM and the process exits 0 instead of 143.
    CountDownLatch stop = new CountDownLatch(1);
    Signal.handle(new Signal("TERM"), signal -> stop.countDown());
    Signal.handle(new Signal("INT"), signal -> stop.countDown());
    stop.await();
    long started = System.nanoTime();
    worker.drain().await(settings.drainMs() + 5_000, TimeUnit.MILLISECONDS);
    vertx.close().await(10, TimeUnit.SECONDS);
    LOG.info("speech worker {} stopped in {} ms", settings.workerId(), (System.nanoTime() - started) / 1_000_000);
    return 0;
  }
}
