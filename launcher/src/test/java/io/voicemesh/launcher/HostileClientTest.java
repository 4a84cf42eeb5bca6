package io.voicemesh.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.zip.Deflater;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Hostile clients against a real all-in-one mesh, each attack with its bound: a deflate bomb,
 * clients that never read, frames that break the protocol, slowloris, silent connections.
 * Raw sockets send what a WebSocket library would refuse to.
 */
@DisplayName("Hostile clients on the gateway")
@Timeout(240)
class HostileClientTest {
  private static final Duration WAIT = Duration.ofSeconds(10);
  private static final long IDLE_TIMEOUT_MS = 4_000;
  private static final long HEADER_TIMEOUT_MS = 2_000;
  @RegisterExtension
  static final TestMesh mesh = TestMesh.with(() -> Map.of(
      "voicemesh.gateway.limits.idleTimeoutMs", IDLE_TIMEOUT_MS,
      "voicemesh.gateway.limits.headerTimeoutMs", HEADER_TIMEOUT_MS));

  private static String auth() {
    return "token=" + mesh.token(TestMesh.USER);
  }

  @Test
  @DisplayName("a 64 MiB deflate bomb is refused (1002) in < 1 s: compression is not negotiated, the loop never "
      + "blocks > 100 ms, /health/live answers, a victim's session goes on")
  void deflateBomb() throws Exception {
    byte[] bomb = deflated(new byte[64 << 20]);
    assertTrue(bomb.length < 100_000, "the bomb is small on the wire: " + bomb.length);
    try (VoiceClient victim = mesh.connect("");
         RawWebSocket attacker = RawWebSocket.open(mesh.port(), auth(),
             Map.of("Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits"))) {
      victim.sessionId();
      assertEquals(101, attacker.status());
      assertNull(attacker.header("Sec-WebSocket-Extensions"), "permessage-deflate must not be negotiated");
      attacker.awaitText("session.ready", WAIT);
      mesh.blockedThreadWarnings().clear();

      long start = System.nanoTime();
      attacker.send(true, 0b100, RawWebSocket.BINARY, true, bomb); // RSV1: "this frame is compressed"
      CompletableFuture<Long> live = CompletableFuture.supplyAsync(() -> timedLiveCheck());
      int code = attacker.awaitClose(WAIT, null);
      long closedMs = (System.nanoTime() - start) / 1_000_000;

      assertEquals(1002, code, "a compressed frame without negotiated compression is a protocol error");
      assertTrue(closedMs < 1_000, "closed after " + closedMs + " ms");
      assertTrue(live.get(5, TimeUnit.SECONDS) < 1_000, "/health/live answered after " + live.get() + " ms");
      long pingAt = System.nanoTime();
      victim.send(new JsonObject().put("type", "ping").put("id", 1));
      victim.await("pong", WAIT);
      long pongMs = (System.nanoTime() - pingAt) / 1_000_000;
      assertTrue(pongMs < 1_000, "the victim's pong took " + pongMs + " ms");
      assertTrue(victim.isOpen());
      assertEquals(List.of(), mesh.blockedThreadWarnings(), "no event loop was blocked for more than 100 ms");
    }
  }

  @Test
  @DisplayName("each protocol violation gets its close code before the TCP close (1009, 1002, 1007)")
  void protocolViolations() throws Exception {
    assertEquals(1009, violation(ws -> ws.sendHeaderOnly(RawWebSocket.BINARY, 2L << 20, 1024)), "frame over 1 MiB");
    assertEquals(1002, violation(ws -> ws.send(true, 0, 0x3, true, new byte[4])), "reserved opcode 3");
    assertEquals(1002, violation(ws -> ws.send(true, 0, 0xB, true, new byte[0])), "reserved control opcode 11");
    assertEquals(1002, violation(ws -> ws.send(true, 0, RawWebSocket.BINARY, false, new byte[640])), "unmasked frame");
    assertEquals(1002, violation(ws -> ws.send(true, 0, RawWebSocket.CONTINUATION, true, new byte[10])),
        "continuation without a message");
    assertEquals(1002, violation(ws -> ws.send(true, 0b010, RawWebSocket.TEXT, true,
        "{\"type\":\"ping\"}".getBytes(StandardCharsets.UTF_8))), "RSV2 set");
    assertEquals(1002, violation(ws -> ws.send(false, 0, RawWebSocket.PING, true, new byte[0])), "fragmented ping");
    assertEquals(1007, violation(ws -> ws.send(true, 0, RawWebSocket.TEXT, true,
        new byte[] {'{', '"', (byte) 0xC3, (byte) 0x28, '"', '}'})), "invalid UTF-8 in a text message");
    // The gateway still serves after all of that.
    try (VoiceClient client = mesh.connect("")) {
      client.send(new JsonObject().put("type", "ping").put("id", 2));
      assertEquals(2, client.await("pong", WAIT).getInteger("id"));
    }
  }

  private interface Attack {
    void send(RawWebSocket socket) throws IOException;
  }

  /** The close code the server answers an attack with (after session.ready), within 5 s. */
  private static int violation(Attack attack) throws Exception {
    try (RawWebSocket socket = RawWebSocket.open(mesh.port(), auth(), Map.of())) {
      assertEquals(101, socket.status());
      socket.awaitText("session.ready", WAIT);
      attack.send(socket);
      return socket.awaitClose(Duration.ofSeconds(5), null);
    }
  }

  @Test
  @DisplayName("20 speakers flooding pings and never reading are closed (1013 slow_consumer) before the heap grows 50 MB")
  void pingFloodersWhoNeverRead() throws Exception {
    // 15 send the protocol's ping with a 16 KB id (each pong is 16 KB; 50 a second pass the rate
    // limit), 5 send WebSocket ping frames (answered by Vert.x itself), 100 to a write.
    byte[] pingText = ("{\"type\":\"ping\",\"id\":\"" + "x".repeat(16_000) + "\"}").getBytes(StandardCharsets.UTF_8);
    byte[] jsonPing = RawWebSocket.frame(true, 0, RawWebSocket.TEXT, true, pingText, pingText.length);
    java.io.ByteArrayOutputStream controlPings = new java.io.ByteArrayOutputStream();
    for (int i = 0; i < 100; i++) {
      controlPings.writeBytes(RawWebSocket.frame(true, 0, RawWebSocket.PING, true, new byte[125], 125));
    }
    int attackers = 20;
    long baseline = liveHeap();
    List<RawWebSocket> sockets = new ArrayList<>();
    ExecutorService pool = Executors.newFixedThreadPool(attackers);
    long peak = 0;
    try {
      List<Future<Integer>> floods = new ArrayList<>();
      java.util.concurrent.atomic.AtomicLong sent = new java.util.concurrent.atomic.AtomicLong();
      List<Boolean> told = java.util.Collections.synchronizedList(new ArrayList<>());
      for (int i = 0; i < attackers; i++) {
        RawWebSocket socket = RawWebSocket.open(mesh.port(), auth(), Map.of());
        socket.awaitText("session.ready", WAIT);
        sockets.add(socket); // and from now on, never read
        byte[] frames = i < 15 ? jsonPing : controlPings.toByteArray();
        floods.add(pool.submit(() -> {
          Flooded flooded = flood(socket, frames, Duration.ofSeconds(40));
          sent.addAndGet(flooded.sentBytes());
          // Reading at last, it found the pongs it was sent, then the error and the close.
          told.add(flooded.texts().stream().anyMatch(t -> t.contains("slow_consumer")));
          return flooded.closeCode();
        }));
      }
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (floods.stream().anyMatch(f -> !f.isDone()) && System.nanoTime() < deadline) {
        peak = Math.max(peak, liveHeap() - baseline);
        Thread.sleep(500);
      }
      peak = Math.max(peak, liveHeap() - baseline);
      List<Integer> codes = new ArrayList<>();
      for (Future<Integer> flood : floods) {
        codes.add(flood.get(1, TimeUnit.SECONDS));
      }
      assertTrue(peak < 50L << 20, "the live heap grew " + (peak >> 20) + " MB while " + (sent.get() >> 20)
          + " MB of pings came; close codes " + codes);
      assertEquals(java.util.Collections.nCopies(attackers, 1013), codes);
      assertEquals(java.util.Collections.nCopies(attackers, true), told, "each was told slow_consumer");
    } finally {
      pool.shutdownNow();
      for (RawWebSocket socket : sockets) {
        socket.close();
      }
    }
  }

  /**
   * Writes {@code frame} over and over without reading, until the server stops taking bytes for 3 s
   * (it stopped reading this connection) or {@code budget} is over. Returns the bytes sent.
   */
  /** What one flooding client sent, and what it found once it read: the close code and the text messages. */
  private record Flooded(long sentBytes, int closeCode, List<String> texts) {
  }

  /**
   * Writes {@code frame} over and over for at most {@code budget}, never reading; once writes stop
   * progressing (the gateway stopped reading), a reader thread reads what the gateway sent — the
   * pongs, the error, the close frame — while the writer stays blocked. Shutting the output instead
   * sends a FIN, and a FIN that reaches the gateway while its close frame still waits for the client
   * to read has Netty drop that frame: the client then sees 1006, not the gateway's 1013.
   */
  private static Flooded flood(RawWebSocket socket, byte[] frame, Duration budget) throws Exception {
    long end = System.nanoTime() + budget.toNanos();
    java.io.OutputStream out = socket.socket().getOutputStream();
    java.util.concurrent.atomic.AtomicLong lastProgress = new java.util.concurrent.atomic.AtomicLong(System.nanoTime());
    java.util.concurrent.CountDownLatch readNow = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.CompletableFuture<Integer> closed = new java.util.concurrent.CompletableFuture<>();
    List<String> texts = java.util.Collections.synchronizedList(new ArrayList<>());
    Thread reader = new Thread(() -> {
      try {
        // Soon enough that the attacker starts reading well within the gateway's 10 s before it cuts
        // the connection (SocketGuard.FORCE_CLOSE_MS): on a loaded machine 3 s left too little.
        while (!readNow.await(100, TimeUnit.MILLISECONDS)) {
          if (System.nanoTime() - lastProgress.get() > TimeUnit.MILLISECONDS.toNanos(1_500)) {
            break;
          }
        }
        closed.complete(socket.awaitClose(Duration.ofSeconds(20), texts));
      } catch (Exception e) {
        closed.completeExceptionally(e);
      } finally {
        try {
          socket.socket().close(); // unblocks a writer still blocked
        } catch (IOException e) {
          // already closed
        }
      }
    });
    reader.setDaemon(true);
    reader.start();
    long sent = 0;
    try {
      while (System.nanoTime() < end && !closed.isDone()) {
        out.write(frame);
        sent += frame.length;
        lastProgress.set(System.nanoTime());
        Thread.sleep(10);
      }
    } catch (IOException e) {
      // the gateway closed, or the reader did once it had the close: the flood is over
    } finally {
      readNow.countDown();
    }
    return new Flooded(sent, closed.get(30, TimeUnit.SECONDS), texts);
  }

  private static long liveHeap() {
    System.gc();
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }

  @Test
  @DisplayName("500 slowloris connections trickling headers are all closed within the header timeout; a normal client is served")
  void slowloris() throws Exception {
    int count = 500;
    List<SocketChannel> channels = new ArrayList<>();
    List<Long> openedAt = new ArrayList<>();
    long[] closedAt = new long[count];
    try (Selector selector = Selector.open()) {
      for (int i = 0; i < count; i++) {
        SocketChannel channel = SocketChannel.open(new InetSocketAddress("127.0.0.1", mesh.port()));
        channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
        channel.write(ByteBuffer.wrap("GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n".getBytes(StandardCharsets.US_ASCII)));
        channel.configureBlocking(false);
        channel.register(selector, SelectionKey.OP_READ, i);
        channels.add(channel);
        openedAt.add(System.nanoTime());
      }
      long bound = HEADER_TIMEOUT_MS + 3_000;
      long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(bound + 5_000);
      int closed = 0;
      long nextTrickle = System.nanoTime();
      boolean normalServed = false;
      ByteBuffer scratch = ByteBuffer.allocate(4096);
      while (closed < count && System.nanoTime() < end) {
        if (System.nanoTime() >= nextTrickle) {
          // One more header byte on every open connection, every 200 ms: never a complete head.
          for (SocketChannel channel : channels) {
            if (channel.isOpen()) {
              try {
                channel.write(ByteBuffer.wrap(new byte[] {'X'}));
              } catch (IOException e) {
                // closed by the server; the selector reports it
              }
            }
          }
          nextTrickle = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(200);
        }
        if (!normalServed && closed == 0) {
          // Meanwhile an ordinary client is served at once.
          long at = System.nanoTime();
          int status = new Rest(mesh.port()).call("GET", "/health/live", null, null).status();
          assertEquals(200, status);
          assertTrue(System.nanoTime() - at < TimeUnit.SECONDS.toNanos(2), "a normal request waited behind slowloris");
          normalServed = true;
        }
        selector.select(100);
        for (SelectionKey key : selector.selectedKeys()) {
          SocketChannel channel = (SocketChannel) key.channel();
          int n;
          try {
            scratch.clear();
            n = channel.read(scratch);
          } catch (IOException e) {
            n = -1;
          }
          if (n < 0) {
            closedAt[(Integer) key.attachment()] = System.nanoTime();
            key.cancel();
            channel.close();
            closed++;
          }
        }
        selector.selectedKeys().clear();
      }
      assertTrue(normalServed);
      assertEquals(count, closed, "slowloris connections still open after " + (bound + 5_000) + " ms");
      long worst = 0;
      for (int i = 0; i < count; i++) {
        worst = Math.max(worst, (closedAt[i] - openedAt.get(i)) / 1_000_000);
      }
      assertTrue(worst <= bound, "a slowloris connection lived " + worst + " ms; the bound is " + bound);
    } finally {
      for (SocketChannel channel : channels) {
        channel.close();
      }
    }
  }

  @Test
  @DisplayName("a connection that sends nothing gets idle_timeout and close 1001; one that pings stays")
  void idleTimeout() throws Exception {
    try (VoiceClient silent = mesh.connect(""); VoiceClient pinging = mesh.connect("")) {
      silent.sessionId();
      pinging.sessionId();
      long start = System.nanoTime();
      long end = start + TimeUnit.MILLISECONDS.toNanos(IDLE_TIMEOUT_MS + 2_000);
      while (System.nanoTime() < end && silent.isOpen()) {
        pinging.send(new JsonObject().put("type", "ping"));
        Thread.sleep(500);
      }
      short code = silent.closed().get(5, TimeUnit.SECONDS);
      long closedMs = (System.nanoTime() - start) / 1_000_000;
      assertEquals(1001, code);
      assertEquals("idle_timeout", silent.await("error", WAIT).getString("code"));
      assertTrue(closedMs >= IDLE_TIMEOUT_MS - 500 && closedMs <= IDLE_TIMEOUT_MS + 2_000, "closed after " + closedMs + " ms");
      assertTrue(pinging.isOpen(), "a connection that pings is not idle");
    }
  }

  /** What a permessage-deflate sender would put in the frame: raw DEFLATE, without the final empty block's tail. */
  private static byte[] deflated(byte[] message) {
    Deflater deflater = new Deflater(Deflater.BEST_COMPRESSION, true);
    deflater.setInput(message);
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    byte[] chunk = new byte[64 * 1024];
    int n;
    while ((n = deflater.deflate(chunk, 0, chunk.length, Deflater.SYNC_FLUSH)) > 0) {
      out.write(chunk, 0, n);
    }
    deflater.end();
    byte[] bytes = out.toByteArray();
    return java.util.Arrays.copyOf(bytes, bytes.length - 4); // RFC 7692 §7.2.1: drop 00 00 ff ff
  }

  private static long timedLiveCheck() {
    long at = System.nanoTime();
    try {
      int status = new Rest(mesh.port()).call("GET", "/health/live", null, null).status();
      return status == 200 ? (System.nanoTime() - at) / 1_000_000 : Long.MAX_VALUE;
    } catch (Exception e) {
      return Long.MAX_VALUE;
    }
  }
}
