package io.voicemesh.api;

import io.vertx.core.Future;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import io.voicemesh.api.message.RoleStatus;
import java.util.List;
import java.util.function.Function;
import java.util.function.Supplier;

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

  /**
   * Answers status requests for a role: on {@code Addresses.health(role)} for the mesh (whichever node
   * of the role is picked) and on the local {@code Addresses.nodeHealth(role)} for this node's {@code /health}.
   */
  public static List<MessageConsumer<Object>> serveStatus(EventBus bus, Role role, Supplier<Future<RoleStatus>> status) {
    MessageConsumer<Object> local = bus.localConsumer(Addresses.nodeHealth(role), message -> status.get()
        .onSuccess(s -> message.reply(Json.encode(s)))
        .onFailure(e -> MeshException.fail(message, e)));
    return List.of(serve(bus, Addresses.health(role), JsonObject.class, ignored -> status.get()), local);
  }

  /**
   * Sends a request and decodes the reply; {@code replyType} {@code Void.class} ignores the body.
   * A session-store address that does not answer (its node or its database stalled) fails with
   * {@code storage_unavailable}, other stages with {@code engine_unavailable}.
   */
  public static <R> Future<R> request(EventBus bus, String address, Object request, Class<R> replyType,
      long timeoutMs) {
    return bus.request(address, Json.encode(request), new DeliveryOptions().setSendTimeout(timeoutMs))
        .recover(e -> Future.failedFuture(classify(address, MeshException.from(e))))
        .map(reply -> replyType == Void.class ? null : Json.decode(reply.body(), replyType));
  }

  private static MeshException classify(String address, MeshException failure) {
    if (failure.code() == ErrorCode.ENGINE_UNAVAILABLE && address.startsWith(SESSION_STORE_PREFIX)) {
      return new MeshException(ErrorCode.STORAGE_UNAVAILABLE, "the session store did not answer in time; try again shortly");
    }
    return failure;
  }

  /** The request addresses the session role serves ({@code session.open}, {@code session.context}, …). */
  private static final String SESSION_STORE_PREFIX = "session.";
}
