package io.voicemesh.api.grpc;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.client.GrpcClientOptions;
import io.vertx.grpc.client.GrpcClientRequest;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.common.ServiceMethod;
import io.voicemesh.api.worker.HealthCheckRequest;
import io.voicemesh.api.worker.HealthCheckResponse;
import io.voicemesh.api.worker.ServingStatus;
import io.voicemesh.api.worker.SpeechWorkerGrpcClient;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The speech workers a {@code grpc} engine may use: one gRPC client over loopback or the network,
 * a health loop that polls every worker's HealthCheck, and round-robin over the ones answering OK.
 * A call that finds a worker gone marks it down at once; only the health loop brings it back.
 * Every call, health checks included, goes over the {@link WorkerChannel} (TLS, the token).
 *
 * <p>Engines call from worker threads and block there ({@link #await}); every gRPC operation runs
 * on the event-loop context this was created on ({@link #onContext}).
 */
public final class SpeechWorkers implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(SpeechWorkers.class);
  /** Audio chunks and synthesized sentences stay far below this; larger is a bug, not data. */
  public static final int MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

  /** One worker address and what the mesh last knew of it. */
  public static final class Worker {
    private final SocketAddress address;
    private volatile ServingStatus status = ServingStatus.STATUS_UNSPECIFIED;
    private volatile String workerId = "";
    /** A health check is on its way: the next tick skips this worker rather than pile calls up. */
    private boolean checking;

    Worker(SocketAddress address) {
      this.address = address;
    }

    public boolean ok() {
      return status == ServingStatus.OK;
    }

    /** The worker's own name once a health check answered, else its address. */
    public String name() {
      return workerId.isEmpty() ? address.toString() : workerId;
    }

    @Override
    public String toString() {
      return address + "(" + status + ")";
    }
  }

  private final Vertx vertx;
  private final Context context;
  private final GrpcClient client;
  private final WorkerChannel channel;
  private final List<Worker> workers = new ArrayList<>();
  private final AtomicInteger next = new AtomicInteger();
  private final long callTimeoutMs;
  private long healthTimer = -1;

  /**
   * A pool from an engine's settings: {@code workers} (host:port addresses, a list or one
   * comma-separated string as an environment variable gives), {@code healthIntervalMs} (default
   * 1000), {@code callTimeoutMs} (default 2000), and the channel's {@code token} and {@code tls}
   * ({@link WorkerChannel#from}).
   */
  public static Future<SpeechWorkers> start(Vertx vertx, JsonObject config) {
    Object value = config.getValue("workers");
    List<String> addresses = value instanceof JsonArray list
        ? list.stream().map(String::valueOf).toList()
        : value == null ? List.of() : List.of(String.valueOf(value).split(","));
    WorkerChannel channel;
    try {
      channel = WorkerChannel.from(config);
    } catch (IllegalArgumentException e) {
      return Future.failedFuture(e);
    }
    return start(vertx, addresses.stream().map(String::trim).filter(a -> !a.isEmpty()).toList(),
        config.getLong("healthIntervalMs", 1000L), config.getLong("callTimeoutMs", 2000L), channel);
  }

  /**
   * {@code addresses} as {@code host:port}. The first health round has run when the returned
   * future completes, so a mesh starting beside healthy workers uses them from its first session.
   */
  public static Future<SpeechWorkers> start(Vertx vertx, List<String> addresses, long healthIntervalMs,
      long callTimeoutMs, WorkerChannel channel) {
    if (addresses.isEmpty()) {
      return Future.failedFuture(new IllegalArgumentException("a grpc engine needs at least one worker address (host:port)"));
    }
    SpeechWorkers pool = new SpeechWorkers(vertx, addresses, callTimeoutMs, channel);
    LOG.info("speech workers {} over {}", addresses, channel);
    return pool.onContext(() -> pool.checkAll().map(v -> {
      pool.healthTimer = vertx.setPeriodic(healthIntervalMs, id -> pool.checkAll());
      return pool;
    }));
  }

  private SpeechWorkers(Vertx vertx, List<String> addresses, long callTimeoutMs, WorkerChannel channel) {
    this.vertx = vertx;
    this.context = vertx.getOrCreateContext();
    this.callTimeoutMs = callTimeoutMs;
    this.channel = channel;
    for (String address : addresses) {
      workers.add(new Worker(parse(address)));
    }
    // Deadlines are enforced by the client too: a worker that hangs (SIGSTOP, a partition) fails the call.
    this.client = GrpcClient.client(vertx, new GrpcClientOptions().setMaxMessageSize(MAX_MESSAGE_BYTES)
            .setScheduleDeadlineAutomatically(true),
        channel.httpOptions((int) callTimeoutMs));
  }

  static SocketAddress parse(String address) {
    int colon = address.lastIndexOf(':');
    if (colon <= 0) {
      throw new IllegalArgumentException("a worker address is host:port, got '" + address + "'");
    }
    return SocketAddress.inetSocketAddress(Integer.parseInt(address.substring(colon + 1).trim()),
        address.substring(0, colon).trim());
  }

  /** Whether some worker takes new sessions now. */
  public boolean anyOk() {
    return workers.stream().anyMatch(Worker::ok);
  }

  /** The workers taking new sessions, each call starting one further along (round-robin). */
  public List<Worker> candidates() {
    int start = Math.floorMod(next.getAndIncrement(), workers.size());
    List<Worker> ordered = new ArrayList<>();
    for (int i = 0; i < workers.size(); i++) {
      Worker worker = workers.get((start + i) % workers.size());
      if (worker.ok()) {
        ordered.add(worker);
      }
    }
    return ordered;
  }

  /** Every configured worker, as the health loop last saw it. */
  public List<Worker> all() {
    return List.copyOf(workers);
  }

  /** Each worker's address and what its health check last said, for health reports. */
  public java.util.Map<String, String> status() {
    java.util.Map<String, String> status = new java.util.LinkedHashMap<>();
    workers.forEach(worker -> status.put(worker.address.host() + ":" + worker.address.port(),
        worker.status == ServingStatus.STATUS_UNSPECIFIED ? "UNKNOWN" : worker.status.name()));
    return status;
  }

  /** A call found {@code worker} gone: route nothing more to it until a health check says OK. */
  public void markDown(Worker worker, Throwable cause) {
    if (worker.status != ServingStatus.UNHEALTHY) {
      LOG.warn("speech worker {} is unavailable: {}", worker.address, cause.getMessage());
    }
    worker.status = ServingStatus.UNHEALTHY;
  }

  private Future<Void> checkAll() {
    return Future.join(workers.stream().map(this::check).toList()).mapEmpty();
  }

  private Future<Void> check(Worker worker) {
    if (worker.checking) {
      return Future.succeededFuture();
    }
    worker.checking = true;
    return this.<HealthCheckRequest, HealthCheckResponse>unary(worker, SpeechWorkerGrpcClient.HealthCheck,
            HealthCheckRequest.getDefaultInstance())
        .transform(answer -> {
          ServingStatus now = answer.succeeded() ? answer.result().getStatus() : ServingStatus.UNHEALTHY;
          if (answer.succeeded()) {
            worker.workerId = answer.result().getWorkerId();
          }
          if (now != worker.status) {
            if (now == ServingStatus.OK) {
              LOG.info("speech worker {} ({}) is healthy", worker.address, worker.name());
            } else if (worker.status == ServingStatus.OK || worker.status == ServingStatus.STATUS_UNSPECIFIED) {
              LOG.warn("speech worker {} is {}: {}", worker.address, now,
                  answer.succeeded() ? answer.result().getDetail() : answer.cause().getMessage());
            }
            worker.status = now;
          }
          worker.checking = false;
          return Future.succeededFuture();
        });
  }

  /**
   * A unary call, failing with {@link WorkerStatusException} on a status other than OK and with
   * {@code DEADLINE_EXCEEDED} when the worker does not answer within the call timeout. Call on
   * the context (see {@link #onContext}).
   */
  public <Req, Resp> Future<Resp> unary(Worker worker, ServiceMethod<Resp, Req> method, Req request) {
    return unary(client, channel, worker.address, method, request, callTimeoutMs);
  }

  /** A unary call without a token (on a plaintext or TLS client alike). */
  public static <Req, Resp> Future<Resp> unary(GrpcClient client, SocketAddress address, ServiceMethod<Resp, Req> method,
      Req request, long timeoutMs) {
    return unary(client, WorkerChannel.PLAINTEXT, address, method, request, timeoutMs);
  }

  /**
   * A unary call on any gRPC client (made with {@code channel}'s options), answered as
   * {@link #unary(Worker, ServiceMethod, Object)} says.
   */
  public static <Req, Resp> Future<Resp> unary(GrpcClient client, WorkerChannel channel, SocketAddress address,
      ServiceMethod<Resp, Req> method, Req request, long timeoutMs) {
    return client.request(address, method).compose(call -> {
      channel.authorize(call.headers());
      call.timeout(timeoutMs, TimeUnit.MILLISECONDS);
      return call.end(request).compose(v -> call.response()).compose(response -> response.last()
          .transform(last -> response.status() == null || response.status() == GrpcStatus.OK
              ? Future.<Resp>future(p -> p.handle(last))
              : Future.<Resp>failedFuture(new WorkerStatusException(response.status(), WorkerStatusException.messageOf(response)))));
    });
  }

  /** Opens a streaming call to {@code worker}; call on the context. */
  public <Req, Resp> Future<GrpcClientRequest<Req, Resp>> stream(Worker worker, ServiceMethod<Resp, Req> method) {
    return client.request(worker.address, method).map(call -> {
      channel.authorize(call.headers());
      return call;
    });
  }

  /** Runs {@code call} on this pool's event-loop context (from any thread). */
  public <T> Future<T> onContext(Supplier<Future<T>> call) {
    Promise<T> result = Promise.promise();
    context.runOnContext(v -> {
      try {
        call.get().onComplete(result);
      } catch (RuntimeException e) {
        result.fail(e);
      }
    });
    return result.future();
  }

  /** Runs {@code action} on the context without waiting. */
  public void run(Runnable action) {
    context.runOnContext(v -> action.run());
  }

  /**
   * Blocks a worker thread (never an event loop) until {@code future} completes, at most
   * {@code timeoutMs}; its failure is rethrown as is, a timeout as DEADLINE_EXCEEDED.
   */
  public static <T> T await(Future<T> future, long timeoutMs) {
    try {
      return future.toCompletionStage().toCompletableFuture().get(timeoutMs, TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      throw e.getCause() instanceof RuntimeException runtime ? runtime : new RuntimeException(e.getCause());
    } catch (TimeoutException e) {
      throw new WorkerStatusException(GrpcStatus.DEADLINE_EXCEEDED, "no answer within " + timeoutMs + " ms");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new WorkerStatusException(GrpcStatus.CANCELLED, "interrupted");
    }
  }

  public long callTimeoutMs() {
    return callTimeoutMs;
  }

  @Override
  public void close() {
    if (healthTimer >= 0) {
      vertx.cancelTimer(healthTimer);
    }
    client.close();
  }
}
