package io.voicemesh.gateway;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.netty.util.ReferenceCountUtil;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers a frame that breaks the WebSocket protocol with its close frame before the TCP close:
 * 1009 for a frame over the 1 MiB limit, 1002 for a bad opcode, an unmasked frame, reserved bits
 * (no extension is negotiated) or a continuation without a message.
 *
 * <p>Why a Netty handler: Vert.x 5.0 builds Netty's frame decoder with
 * {@code closeOnProtocolViolation(false)}; the decoder then throws, and Vert.x's own handler closes
 * the channel as soon as the exception reaches it, with no close frame (the client saw 1006). This
 * handler sits between the decoder and Vert.x and takes the exception first. It writes the close
 * frame, drops anything the connection would still send, and closes the channel once the client
 * has closed its side or after {@link #LINGER_MS}: closing at once, with the offender's unread bytes
 * still in the socket, would reset the connection and could destroy the close frame before the
 * client reads it. The decoder discards whatever else arrives meanwhile.
 */
final class ProtocolViolations extends ChannelDuplexHandler {
  private static final Logger LOG = LoggerFactory.getLogger(ProtocolViolations.class);
  static final String NAME = "voicemeshProtocolViolations";
  /** How long a violating client has to read the close frame and close its side. */
  static final long LINGER_MS = 2_000;
  private boolean closing;

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (!(cause instanceof CorruptedWebSocketFrameException corrupt)) {
      ctx.fireExceptionCaught(cause);
      return;
    }
    if (closing) {
      return;
    }
    closing = true;
    WebSocketCloseStatus status = corrupt.closeStatus() == null ? WebSocketCloseStatus.PROTOCOL_ERROR : corrupt.closeStatus();
    // Our own reason, not the decoder's text.
    String reason = status.code() == WebSocketCloseStatus.MESSAGE_TOO_BIG.code() ? "frame_too_large" : "protocol_error";
    LOG.debug("closing a connection that broke the WebSocket protocol ({}): {}", status.code(), corrupt.getMessage());
    ctx.writeAndFlush(new CloseWebSocketFrame(status.code(), reason));
    // From this handler's context, not the channel's: Vert.x's handler (after this one) would turn
    // a close into its own close handshake and wait another 10 s for the client's answer.
    ctx.executor().schedule(() -> ctx.close(), LINGER_MS, TimeUnit.MILLISECONDS);
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
    if (closing) {
      // Nothing after the close frame.
      ReferenceCountUtil.release(msg);
      promise.trySuccess();
      return;
    }
    super.write(ctx, msg, promise);
  }
}
