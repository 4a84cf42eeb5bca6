package io.voicemesh.api.message;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;

/** Control messages to an STT node's stream address, beside the streams' binary audio frames. */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type")
@JsonSubTypes({
    @JsonSubTypes.Type(value = SttControl.Commit.class, name = "commit"),
    @JsonSubTypes.Type(value = SttControl.Close.class, name = "close"),
    @JsonSubTypes.Type(value = SttControl.Probe.class, name = "probe"),
    @JsonSubTypes.Type(value = SttControl.Serve.class, name = "serve")
})
public sealed interface SttControl {

  /** End the user's turn now, whatever the silence detector thinks. */
  record Commit() implements SttControl {
  }

  /** The session is gone: release the recognizer. */
  record Close() implements SttControl {
  }

  /**
   * To a hot standby ({@code SttOpen.standby}): the session's stream was lost and this one serves it
   * now; the node counts it as the session's stream from here on.
   */
  record Serve() implements SttControl {
  }

  /**
   * Sent without a stream, as a request: the node answers {@code ok}. Gateways send one to each STT
   * node they learn of, so their event bus has the node's address at hand before a failover needs it.
   */
  record Probe() implements SttControl {
  }
}
