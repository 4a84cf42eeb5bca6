package io.voicemesh.gateway;

import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.http.WebSocketFrame;
import io.vertx.core.internal.http.WebSocketInternal;
import io.voicemesh.api.ErrorCode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Bounds what one WebSocket client can hold of the gateway, whatever its role:
 * <ul>
 *   <li><b>Its write queue.</b> At most {@code limits.writeQueueBytes} may wait beyond what the OS
 *       buffers; a client that lets more pile up — it does not read its events, audio, or the
 *       pongs of its own pings — is closed (1013, {@code slow_consumer}). Checked on every frame it
 *       sends (pongs are written by Vert.x before we see the ping) and by {@link ClientChannel} after
 *       every write.</li>
 *   <li><b>Silence.</b> A client that sends no frame at all (not even a ping) for
 *       {@code limits.idleTimeoutMs} gets {@code error{idle_timeout}} and is closed (1001).</li>
 *   <li><b>Protocol violations</b> get their close frame before the TCP close: those the frame
 *       decoder finds (1002, 1009) through {@link ProtocolViolations}, invalid UTF-8 in a text
 *       message (which neither Netty nor Vert.x checks here) as 1007.</li>
 * </ul>
 * A slow consumer stops being read, so it cannot make the gateway queue more (pongs) while its
 * close frame waits behind what it has not read. Any connection this guard closes that has not
 * closed {@link #FORCE_CLOSE_MS} later has its TCP connection cut.
 */
final class SocketGuard {
  private static final Logger LOG = LoggerFactory.getLogger(SocketGuard.class);
  /** How long a close frame may wait behind unread data before the TCP connection is cut. */
  static final long FORCE_CLOSE_MS = 10_000;

  private final Vertx vertx;
  private final ServerWebSocket socket;
  private final ClientChannel client;
  private final long idleTimeoutMs;
  private long lastFrameNanos = System.nanoTime();
  private long idleTimer = -1;
  private long forceTimer = -1;
  private boolean closing;
  private boolean stopped;

  SocketGuard(Vertx vertx, ServerWebSocket socket, ClientChannel client, GatewaySettings settings) {
    this.vertx = vertx;
    this.socket = socket;
    this.client = client;
    this.idleTimeoutMs = settings.idleTimeoutMs();
    socket.setWriteQueueMaxSize(settings.writeQueueBytes());
    if (socket instanceof WebSocketInternal internal && internal.channelHandlerContext().pipeline().get("handler") != null) {
      internal.channelHandlerContext().pipeline().addBefore("handler", ProtocolViolations.NAME, new ProtocolViolations());
    }
    armIdleTimer(idleTimeoutMs);
  }

  /** The connection's frame handler, behind the guard: each frame counts as activity and checks the write queue. */
  Handler<WebSocketFrame> watching(Handler<WebSocketFrame> frames) {
    return frame -> {
      lastFrameNanos = System.nanoTime();
      if (closing) {
        return;
      }
      if (writeQueueFull()) {
        slowConsumer();
        return;
      }
      frames.handle(frame);
    };
  }

  /** Whether more is waiting to be sent to this client than it may have waiting. */
  boolean writeQueueFull() {
    return !socket.isClosed() && socket.writeQueueFull();
  }

  /** The client does not read what it is sent: tell it (if it ever reads again) and close (1013). */
  void slowConsumer() {
    hangUp(ErrorCode.SLOW_CONSUMER, (short) 1013,
        "this connection does not read what it is sent fast enough; reconnect with lastSeq to resume");
  }

  /** A text message that is not UTF-8: a protocol violation (1007). */
  void invalidText() {
    LOG.debug("closing a connection that sent a text message that is not UTF-8");
    closing = true;
    socket.pause();
    socket.close((short) WebSocketCloseStatus.INVALID_PAYLOAD_DATA.code(), "invalid_utf8");
    forceCloseLater();
  }

  /** Closes this client for something it did: the error, then the close frame; no more is read from it. */
  void hangUp(ErrorCode why, short closeCode, String message) {
    if (closing || socket.isClosed()) {
      return;
    }
    closing = true;
    LOG.debug("closing a connection ({}): {}", closeCode, why.wire());
    client.replyError(why, message);
    if (why == ErrorCode.SLOW_CONSUMER) {
      stopReading();
    }
    socket.close(closeCode, why.wire());
    forceCloseLater();
  }

  /**
   * No more is read from this client. Pausing the WebSocket is not enough against pings: Vert.x
   * answers each ping before it asks for demand, and gives one more unit of demand back for every
   * ping it delivers, so a paused socket kept answering a ping flood. Reading stops at the channel.
   */
  private void stopReading() {
    socket.pause();
    if (socket instanceof WebSocketInternal internal) {
      internal.channelHandlerContext().channel().config().setAutoRead(false);
    }
  }

  /** The connection is closed: no more timers. */
  void stop() {
    stopped = true;
    vertx.cancelTimer(idleTimer);
    vertx.cancelTimer(forceTimer);
  }

  private void forceCloseLater() {
    forceTimer = vertx.setTimer(FORCE_CLOSE_MS, t -> {
      if (!stopped && socket instanceof WebSocketInternal internal) {
        // Vert.x's own context: the close goes to the socket without Vert.x's close handshake.
        internal.channelHandlerContext().close();
      }
    });
  }

  // One timer per connection, re-armed for the time left rather than reset on every frame.
  private void armIdleTimer(long delayMs) {
    idleTimer = vertx.setTimer(Math.max(1, delayMs), t -> {
      if (stopped || closing) {
        return;
      }
      long quietMs = (System.nanoTime() - lastFrameNanos) / 1_000_000;
      if (quietMs >= idleTimeoutMs) {
        hangUp(ErrorCode.IDLE_TIMEOUT, (short) 1001, "nothing received for " + idleTimeoutMs
            + " ms; send a ping to keep a quiet connection open");
      } else {
        armIdleTimer(idleTimeoutMs - quietMs);
      }
    });
  }
}
