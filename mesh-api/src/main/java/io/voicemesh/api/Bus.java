package io.voicemesh.api;

import io.vertx.core.Future;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.MessageConsumer;
import java.util.function.Function;

/**
 * Typed request/reply over the event bus: records in, records out, failures as {@link MeshException}
 * with their {@link ErrorCode} on both sides.
 */
public final class Bus {
  private Bus() {
  }

  /**
   * Serves {@code address}: decodes each request as {@code type}, runs {@code handler}, replies with
   * the encoded result (an empty body for {@code Void}) or fails with the error's code.
   */
  public static <T, R> MessageConsumer<Object> serve(EventBus bus, String address, Class<T> type,
      Function<T, Future<R>> handler) {
    return bus.consumer(address, message -> {
      Future<R> result;
      try {
        result = handler.apply(Json.decode(message.body(), type));
      } catch (RuntimeException e) {
        result = Future.failedFuture(e);
      }
      result.onSuccess(r -> message.reply(r == null ? null : Json.encode(r)))
          .onFailure(e -> MeshException.fail(message, e));
    });
  }

  /** Sends a request and decodes the reply; {@code replyType} {@code Void.class} ignores the body. */
  public static <R> Future<R> request(EventBus bus, String address, Object request, Class<R> replyType,
      long timeoutMs) {
    return bus.request(address, Json.encode(request), new DeliveryOptions().setSendTimeout(timeoutMs))
        .recover(e -> Future.failedFuture(MeshException.from(e)))
        .map(reply -> replyType == Void.class ? null : Json.decode(reply.body(), replyType));
  }
}
