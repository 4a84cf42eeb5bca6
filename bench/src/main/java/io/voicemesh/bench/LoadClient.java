package io.voicemesh.bench;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.LongAdder;

/**
 * Many WebSocket clients on their own Vert.x. Sessions are split into slices, one per client
 * context (spread over the event loops); each slice has one timer that sends every session of the
 * slice its due 20 ms frames (deadline-based: frame k is due at start + 20 k ms), the slices'
 * phases spread over the 20 ms. Every frame carries its send time ({@link PcmClock}).
 */
final class LoadClient implements AutoCloseable {
  private static final int CONNECTS_IN_FLIGHT = 32;
  private static final long CONNECT_TIMEOUT_MS = 20_000;

  /** Whether a session is ready on connect (echo) or once the server sends {@code session.ready}. */
  enum Protocol { VOICEMESH, ECHO }

  private final Vertx vertx;
  private final WebSocketClient client;
  private final List<Context> slices = new ArrayList<>();
  private final LongAdder framesSent = new LongAdder();
  private final Map<String, LongAdder> serverErrors = new ConcurrentHashMap<>();
  /** Echo replies: client send → echo received. */
  final LatencyRecorder echoLatency = new LatencyRecorder();

  /** One client connection. Touched only on its slice's context. */
  static final class Session {
    final int slice;
    WebSocket socket;
    long framesSent;
    boolean closed;

    Session(int slice) {
      this.slice = slice;
    }
  }

  /** The sessions that became ready, how many did not, and how long connecting took. */
  record Connected(List<Session> sessions, int failed, long millis, String firstFailure) {
  }

  LoadClient(int sliceCount) throws Exception {
    vertx = Vertx.vertx();
    client = vertx.createWebSocketClient(new WebSocketClientOptions()
        .setMaxConnections(1_000_000)
        .setConnectTimeout((int) CONNECT_TIMEOUT_MS));
    slices.addAll(eventLoopContexts(vertx, sliceCount));
  }

  long framesSent() {
    return framesSent.sum();
  }

  /** Error events the server sent, by code (e.g. rate_limited, capacity), since the last reset. */
  Map<String, Long> takeServerErrors() {
    Map<String, Long> errors = new java.util.TreeMap<>();
    serverErrors.forEach((code, n) -> errors.put(code, n.sumThenReset()));
    errors.values().removeIf(n -> n == 0);
    return errors;
  }

  /** Opens {@code n} sessions, at most {@value #CONNECTS_IN_FLIGHT} at a time, each within a deadline. */
  Connected connect(int port, String uri, int n, Protocol protocol) throws InterruptedException {
    long started = System.nanoTime();
    List<Session> ready = java.util.Collections.synchronizedList(new ArrayList<>());
    LongAdder failed = new LongAdder();
    String[] firstFailure = {null};
    Semaphore inFlight = new Semaphore(CONNECTS_IN_FLIGHT);
    CountDownLatch done = new CountDownLatch(n);
    for (int i = 0; i < n; i++) {
      if (!inFlight.tryAcquire(CONNECT_TIMEOUT_MS * 2, TimeUnit.MILLISECONDS)) {
        throw new IllegalStateException("connections stopped completing");
      }
      Session session = new Session(i % slices.size());
      Context context = slices.get(session.slice);
      context.runOnContext(v -> {
        Promise<Void> isReady = Promise.promise();
        long timer = vertx.setTimer(CONNECT_TIMEOUT_MS,
            t -> isReady.tryFail("not ready within " + CONNECT_TIMEOUT_MS + " ms"));
        client.connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(port).setURI(uri)
                .setTimeout(CONNECT_TIMEOUT_MS))
            .onSuccess(socket -> {
              // Handlers go on here, in the connect callback: session.ready may be the next frame.
              session.socket = socket;
              socket.textMessageHandler(text -> onText(text, isReady));
              socket.binaryMessageHandler(this::onBinary);
              socket.closeHandler(c -> {
                session.closed = true;
                isReady.tryFail("closed " + socket.closeStatusCode() + " " + socket.closeReason());
              });
              socket.exceptionHandler(e -> { });
              if (protocol == Protocol.ECHO) {
                isReady.tryComplete();
              }
            })
            .onFailure(e -> isReady.tryFail(e));
        isReady.future().onComplete(result -> {
          vertx.cancelTimer(timer);
          if (result.succeeded()) {
            ready.add(session);
          } else {
            failed.increment();
            synchronized (firstFailure) {
              if (firstFailure[0] == null) {
                firstFailure[0] = String.valueOf(result.cause().getMessage());
              }
            }
            if (session.socket != null) {
              session.socket.close();
            }
          }
          inFlight.release();
          done.countDown();
        });
      });
    }
    if (!done.await(CONNECT_TIMEOUT_MS * 2, TimeUnit.MILLISECONDS)) {
      throw new IllegalStateException("connections did not settle");
    }
    List<Session> sessions;
    synchronized (ready) {
      sessions = new ArrayList<>(ready);
    }
    return new Connected(sessions, (int) failed.sum(), (System.nanoTime() - started) / 1_000_000, firstFailure[0]);
  }

  private void onText(String text, Promise<Void> isReady) {
    JsonObject event;
    try {
      event = new JsonObject(text);
    } catch (RuntimeException e) {
      return;
    }
    String type = event.getString("type");
    if ("session.ready".equals(type)) {
      isReady.tryComplete();
    } else if ("error".equals(type)) {
      serverErrors.computeIfAbsent(String.valueOf(event.getString("code")), c -> new LongAdder()).increment();
    }
  }

  private void onBinary(Buffer frame) {
    if (frame.length() >= 16) {
      echoLatency.record(System.nanoTime() - PcmClock.read(frame));
    }
  }

  /** A running stream of frames from a set of sessions; {@link #stop()} ends it. */
  final class Streaming {
    private final long[] timers;

    private Streaming(long[] timers) {
      this.timers = timers;
    }

    void stop() throws InterruptedException {
      CountDownLatch cancelled = new CountDownLatch(slices.size());
      for (int s = 0; s < slices.size(); s++) {
        int slice = s;
        slices.get(slice).runOnContext(v -> {
          vertx.cancelTimer(timers[slice]);
          cancelled.countDown();
        });
      }
      cancelled.await(10, TimeUnit.SECONDS);
    }
  }

  /** Every session sends a 20 ms frame every 20 ms until {@link Streaming#stop()}. */
  Streaming startStreaming(List<Session> sessions) throws InterruptedException {
    List<List<Session>> bySlice = new ArrayList<>();
    for (int s = 0; s < slices.size(); s++) {
      bySlice.add(new ArrayList<>());
    }
    sessions.forEach(session -> bySlice.get(session.slice).add(session));
    long[] timers = new long[slices.size()];
    long start = System.nanoTime();
    CountDownLatch started = new CountDownLatch(slices.size());
    for (int s = 0; s < slices.size(); s++) {
      int slice = s;
      List<Session> mine = bySlice.get(slice);
      long phase = start + TimeUnit.MILLISECONDS.toNanos((long) PcmClock.FRAME_MS * slice / slices.size());
      slices.get(slice).runOnContext(v -> {
        timers[slice] = vertx.setPeriodic(2, id -> sendDue(mine, phase));
        started.countDown();
      });
    }
    started.await(10, TimeUnit.SECONDS);
    return new Streaming(timers);
  }

  private void sendDue(List<Session> sessions, long phase) {
    long now = System.nanoTime();
    if (now < phase) {
      return;
    }
    long due = (now - phase) / TimeUnit.MILLISECONDS.toNanos(PcmClock.FRAME_MS) + 1;
    for (Session session : sessions) {
      // Never more than 3 frames at once: a client that fell behind skips audio rather than burst.
      if (due - session.framesSent > 3) {
        session.framesSent = due - 3;
      }
      while (session.framesSent < due && !session.closed) {
        byte[] frame = new byte[PcmClock.FRAME_BYTES];
        PcmClock.write(frame, System.nanoTime());
        session.socket.writeBinaryMessage(Buffer.buffer(frame));
        session.framesSent++;
        framesSent.increment();
      }
    }
  }

  /** Closes every session and waits (bounded) until each is closed. */
  void closeAll(List<Session> sessions) throws InterruptedException {
    CountDownLatch closed = new CountDownLatch(sessions.size());
    for (Session session : sessions) {
      slices.get(session.slice).runOnContext(v -> {
        if (session.closed) {
          closed.countDown();
        } else {
          session.socket.close().onComplete(r -> closed.countDown());
        }
      });
    }
    if (!closed.await(30, TimeUnit.SECONDS)) {
      System.err.println("  (" + closed.getCount() + " client sessions did not close within 30 s)");
    }
  }

  @Override
  public void close() {
    EventBusHop.close(vertx);
  }

  /** {@code count} contexts, one per deployment, so they are spread over all of the Vert.x's event loops. */
  static List<Context> eventLoopContexts(Vertx vertx, int count) throws TimeoutException {
    List<Context> contexts = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      Promise<Context> sliceContext = Promise.promise();
      // Each deployment gets the next event loop.
      vertx.deployVerticle(new VerticleBase() {
        @Override
        public Future<?> start() {
          sliceContext.complete(context);
          return Future.succeededFuture();
        }
      }).await(10, TimeUnit.SECONDS);
      contexts.add(sliceContext.future().await(10, TimeUnit.SECONDS));
    }
    return contexts;
  }
}
