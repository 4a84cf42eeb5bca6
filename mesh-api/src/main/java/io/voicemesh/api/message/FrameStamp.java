package io.voicemesh.api.message;

import io.vertx.core.MultiMap;
import io.vertx.core.eventbus.DeliveryOptions;
import java.time.Instant;

/**
 * When an audio frame left the gateway, in a header, so the STT node can measure the hop. Wall
 * clock in microseconds: meaningful between nodes whose clocks agree (one host, or NTP).
 */
public final class FrameStamp {
  private static final String SENT_AT_MICROS = "sentAtMicros";

  private FrameStamp() {
  }

  public static DeliveryOptions now() {
    return stamp(new DeliveryOptions());
  }

  /** {@code options} (a fresh instance: a message may keep its headers) with the send time added. */
  public static DeliveryOptions stamp(DeliveryOptions options) {
    return options.addHeader(SENT_AT_MICROS, Long.toString(micros(Instant.now())));
  }

  /** Microseconds since the frame was stamped, or -1 when it was not. */
  public static long ageMicros(MultiMap headers) {
    String sent = headers.get(SENT_AT_MICROS);
    return sent == null ? -1 : micros(Instant.now()) - Long.parseLong(sent);
  }

  private static long micros(Instant t) {
    return t.getEpochSecond() * 1_000_000 + t.getNano() / 1_000;
  }
}
