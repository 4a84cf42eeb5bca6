package io.voicemesh.api.message;

import io.vertx.core.eventbus.DeliveryOptions;

/**
 * An STT node's acceptance of a stream: the node's stream address ({@code Addresses.sttStreams}),
 * the stream's id there, and the node's name.
 */
public record SttOpened(String nodeAddress, String streamId, String node) {

  /**
   * The headers of every frame and control message of this stream: its id, and where its events
   * go, so a node that does not know the stream (it closed it, or restarted under the same name)
   * can answer {@code stream.closed} and the gateway moves the stream instead of talking to nobody.
   */
  public DeliveryOptions delivery(String eventsAddress) {
    return new DeliveryOptions().addHeader(SttOpen.STREAM_HEADER, streamId).addHeader(SttOpen.EVENTS_HEADER, eventsAddress);
  }
}
