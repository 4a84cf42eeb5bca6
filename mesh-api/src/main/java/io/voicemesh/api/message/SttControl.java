package io.voicemesh.api.message;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;

/** Control messages on a session's STT stream address, beside its binary audio frames. */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type")
@JsonSubTypes({
    @JsonSubTypes.Type(value = SttControl.Commit.class, name = "commit"),
    @JsonSubTypes.Type(value = SttControl.Close.class, name = "close")
})
public sealed interface SttControl {

  /** End the user's turn now, whatever the silence detector thinks. */
  record Commit() implements SttControl {
  }

  /** The session is gone: release the recognizer and the address. */
  record Close() implements SttControl {
  }
}
