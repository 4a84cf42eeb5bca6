package io.voicemesh.api;

import java.util.Arrays;
import java.util.Locale;

/** The roles a node can run; each is one verticle module. */
public enum Role {
  GATEWAY, SESSION, STT, LLM, TTS;

  /** The lower-case name used in configuration, addresses and {@code --roles}. */
  public String id() {
    return name().toLowerCase(Locale.ROOT);
  }

  public static Role of(String id) {
    return Arrays.stream(values())
        .filter(r -> r.id().equals(id.trim().toLowerCase(Locale.ROOT)))
        .findFirst()
        .orElseThrow(() -> new IllegalArgumentException(
            "unknown role '" + id + "'; expected one of " + Arrays.toString(values()).toLowerCase(Locale.ROOT)));
  }
}
