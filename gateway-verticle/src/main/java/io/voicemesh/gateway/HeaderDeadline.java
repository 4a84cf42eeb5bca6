package io.voicemesh.gateway;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.LastHttpContent;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.impl.HttpServerConnection;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Closes an HTTP connection that has not sent a complete request head within
 * {@code limits.headerTimeoutMs} (slowloris: a client trickling header bytes to hold a connection
 * forever). The clock runs from the connection's start, and again from the end of each response
 * while no other request is waiting; it stops when a head arrives. A connection upgraded to a
 * WebSocket leaves it (the WebSocket has its own idle timeout).
 *
 * <p>Vert.x has no such timeout (its idle timeout is reset by every byte), so this is a Netty handler
 * placed after Vert.x's request decoder, where a request counts once its whole head is parsed.
 */
final class HeaderDeadline extends ChannelDuplexHandler {
  private final long timeoutMs;
  private ScheduledFuture<?> deadline;
  /** Requests whose head arrived and whose response has not ended. */
  private int open;

  private HeaderDeadline(long timeoutMs) {
    this.timeoutMs = timeoutMs;
  }

  /** Watches a new connection of the gateway's server (its connection handler). */
  static void watch(HttpConnection connection, long timeoutMs) {
    if (connection instanceof HttpServerConnection http1 && http1.channelHandlerContext().pipeline().get("handler") != null) {
      http1.channelHandlerContext().pipeline().addBefore("handler", "voicemeshHeaderDeadline", new HeaderDeadline(timeoutMs));
    }
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    arm(ctx);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
    if (msg instanceof HttpRequest) {
      open++;
      disarm();
    }
    super.channelRead(ctx, msg);
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
    int status = msg instanceof HttpResponse response ? response.status().code() : 0;
    super.write(ctx, msg, promise);
    if (status == HttpResponseStatus.SWITCHING_PROTOCOLS.code()) {
      ctx.pipeline().remove(this);
    } else if (msg instanceof LastHttpContent && (status == 0 || status >= 200) && open > 0 && --open == 0) {
      // (A 100 Continue is a whole response too, but its request goes on.)
      arm(ctx);
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    disarm();
    super.channelInactive(ctx);
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    disarm();
  }

  private void arm(ChannelHandlerContext ctx) {
    disarm();
    deadline = ctx.executor().schedule(() -> {
      if (open == 0) {
        ctx.channel().close();
      }
    }, timeoutMs, TimeUnit.MILLISECONDS);
  }

  private void disarm() {
    if (deadline != null) {
      deadline.cancel(false);
      deadline = null;
    }
  }
}
