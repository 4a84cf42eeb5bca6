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

  @Option(names = "--host", description = "address to listen on (default 127.0.0.1, or voicemesh.worker.host); "
      + "a non-loopback one needs --auth-token or --insecure")
  String host;

  @Option(names = "--auth-token", description = "shared secret every call must carry as 'authorization: Bearer <token>' "
      + "(at least 16 characters; default VOICEMESH_WORKER_TOKEN, or voicemesh.worker.authToken). Prefer the "
      + "variable: a command line is visible to other users of the machine")
  String authToken;

  @Option(names = "--tls-cert", paramLabel = "FILE", description = "PEM certificate chain: serve TLS only "
      + "(with --tls-key; or voicemesh.worker.tls.certFile)")
  String tlsCert;

  @Option(names = "--tls-key", paramLabel = "FILE", description = "PEM private key (PKCS#8) of --tls-cert "
      + "(or voicemesh.worker.tls.keyFile)")
  String tlsKey;

  @Option(names = "--insecure", description = "allow a non-loopback --host without --auth-token: anyone who can reach "
      + "the port may use the engines")
  boolean insecure;

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
    put(overrides, "voicemesh.worker.authToken", authToken);
    put(overrides, "voicemesh.worker.tls.certFile", tlsCert);
    put(overrides, "voicemesh.worker.tls.keyFile", tlsKey);
    put(overrides, "voicemesh.worker.insecure", insecure ? Boolean.TRUE : null);
    put(overrides, "voicemesh.worker.maxSessions", maxSessions);
    put(overrides, "voicemesh.worker.maxBufferBytes", maxBufferBytes);
    put(overrides, "voicemesh.worker.drainMs", drainMs);
    put(overrides, "voicemesh.worker.id", workerId);
    MeshConfig config = options.load(overrides);
    WorkerSettings settings;
    try {
      settings = settings(config);
    } catch (IllegalArgumentException refused) {
      // A setting that would expose or break the worker: say which, without a stack trace.
      System.err.println("voicemesh worker: " + refused.getMessage());
      return 2;
    }
    return serveUntilStopped(config, settings);
  }

  static WorkerSettings settings(MeshConfig config) {
    return WorkerSettings.from(config.section("worker"), Mesh.sttConfig(config, config.node()), config.section("tts"),
        config.node());
  }

  private static void put(Map<String, Object> overrides, String key, Object value) {
    if (value != null) {
      overrides.put(key, value);
    }
  }

  static int serveUntilStopped(MeshConfig config, WorkerSettings settings) throws Exception {
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
        + worker.port() + " (" + settings.access() + ")");
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
