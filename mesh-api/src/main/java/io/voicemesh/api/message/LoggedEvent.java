package io.voicemesh.api.message;

import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;

/**
 * One client-visible event of a session as the event log holds it: its seq, type and exact JSON text.
 * Published on {@code session.<id>.events} as that text, with seq and type in the headers, so every
 * listener sends it on as it is, without parsing or encoding it again.
 */
public record LoggedEvent(long seq, String type, String json) {
  private static final String SEQ = "seq";
  private static final String TYPE = "type";

  public DeliveryOptions toDeliveryOptions() {
    return new DeliveryOptions().addHeader(SEQ, Long.toString(seq)).addHeader(TYPE, type);
  }

  /** The event a published message carries, or null when it is not one. */
  public static LoggedEvent from(Message<?> message) {
    String seq = message.headers().get(SEQ);
    if (seq == null || !(message.body() instanceof String json)) {
      return null;
    }
    try {
      return new LoggedEvent(Long.parseLong(seq), message.headers().get(TYPE), json);
    } catch (NumberFormatException e) {
      return null;
    }
  }
}
