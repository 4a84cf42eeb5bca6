package io.voicemesh.gateway;

import io.vertx.core.json.JsonObject;
import io.voicemesh.api.ErrorCode;
import io.voicemesh.api.MeshException;
import io.voicemesh.api.engine.EndOfTurn;

/**
 * A session's end-of-turn settings, as {@code session.update} sets them: the silence that ends a
 * turn whose words sound complete ({@code minSilenceMs}) and the one that ends any turn
 * ({@code maxSilenceMs}); see {@link EndOfTurn}.
 *
 * <pre>
 * eagerness  low | medium | high | auto  → both silences from the level
 *            off                          → silence alone: both are silenceMs
 * silenceMs  (the protocol's first field) → eagerness off, both silences that long
 * minSilenceMs, maxSilenceMs              → set after the above, each on its own
 * </pre>
 */
record TurnSilence(String eagerness, int minSilenceMs, int maxSilenceMs) {
  static final String OFF = "off";
  private static final int MIN_MS = 100;
  private static final int MAX_MS = 5_000;

  /** A session's settings before any update: the gateway's configured eagerness. */
  static TurnSilence defaults(GatewaySettings settings) {
    return of(settings.defaultEagerness(), settings.defaultSilenceMs());
  }

  /** The settings named by {@code eagerness}; {@code silenceMs} serves {@code off}. Null for an unknown name. */
  static TurnSilence of(String eagerness, int silenceMs) {
    if (OFF.equals(eagerness)) {
      return new TurnSilence(OFF, silenceMs, silenceMs);
    }
    EndOfTurn.Eagerness level = EndOfTurn.Eagerness.named(eagerness);
    return level == null ? null : new TurnSilence(level.wire(), level.minSilenceMs, level.maxSilenceMs);
  }

  /** These settings changed by the fields of a {@code session.update}; every field is checked, or nothing changes. */
  TurnSilence update(JsonObject m) {
    TurnSilence next = this;
    if (m.containsKey("silenceMs")) {
      int silence = Fields.integer(m, "silenceMs", maxSilenceMs, 200, MAX_MS);
      next = new TurnSilence(OFF, silence, silence);
    }
    if (m.containsKey("eagerness")) {
      String name = Fields.text(m, "eagerness", eagerness, 16);
      next = of(name, next.maxSilenceMs);
      if (next == null) {
        throw new MeshException(ErrorCode.BAD_REQUEST, "eagerness must be low, medium, high, auto or off");
      }
    }
    int min = Fields.integer(m, "minSilenceMs", next.minSilenceMs, MIN_MS, MAX_MS);
    int max = Fields.integer(m, "maxSilenceMs", next.maxSilenceMs, MIN_MS, MAX_MS);
    if (min > max) {
      throw new MeshException(ErrorCode.BAD_REQUEST, "minSilenceMs (" + min + ") must not exceed maxSilenceMs (" + max + ")");
    }
    return new TurnSilence(min == max ? OFF : next.eagerness, min, max);
  }

  /** The fields {@code session.ready} and {@code session.updated} report; {@code silenceMs} is the maximum. */
  JsonObject describe(JsonObject into) {
    return into.put("eagerness", eagerness).put("minSilenceMs", minSilenceMs).put("maxSilenceMs", maxSilenceMs)
        .put("silenceMs", maxSilenceMs);
  }
}
