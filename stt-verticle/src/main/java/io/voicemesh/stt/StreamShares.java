package io.voicemesh.stt;

import io.vertx.core.json.JsonObject;
import io.voicemesh.api.ErrorCode;
import io.voicemesh.api.MeshException;
import io.voicemesh.api.message.SttOpen;
import java.util.Collection;

/**
 * How much of one STT node a single user, and a single token, may hold: {@code userShare} and
 * {@code tokenShare} of its {@code capacity} (at least one stream each), so one user or one leaked
 * token can never take every recognizer while others wait. Counted from the streams the node holds
 * and is opening, at each open: nothing to keep in step, nothing that can leak.
 */
final class StreamShares {
  private final int capacity;
  private final double userShare;
  private final double tokenShare;
  private final int perUser;
  private final int perToken;

  private StreamShares(int capacity, double userShare, double tokenShare) {
    this.capacity = capacity;
    this.userShare = userShare;
    this.tokenShare = tokenShare;
    this.perUser = Math.max(1, (int) Math.floor(userShare * capacity));
    this.perToken = Math.max(1, (int) Math.floor(tokenShare * capacity));
  }

  /** From the STT config: {@code userShare} (default 0.2) and {@code tokenShare} (default 0.1), each in (0, 1]. */
  static StreamShares from(JsonObject config, int capacity) {
    double user = config.getDouble("userShare", 0.2);
    double token = config.getDouble("tokenShare", 0.1);
    if (!(user > 0 && user <= 1) || !(token > 0 && token <= 1)) {
      throw new IllegalArgumentException("stt.userShare and stt.tokenShare must be more than 0 and at most 1; got "
          + user + " and " + token);
    }
    return new StreamShares(capacity, user, token);
  }

  int perUser() {
    return perUser;
  }

  int perToken() {
    return perToken;
  }

  /**
   * Refuses ({@code quota_exceeded}) a stream whose user or token already holds its share of
   * {@code held}, the streams this node serves or is opening.
   */
  void admit(SttOpen spec, Collection<SttOpen> held, String node) {
    int byUser = byUser(spec, held);
    if (byUser >= perUser) {
      throw new MeshException(ErrorCode.QUOTA_EXCEEDED, "this user holds " + byUser + " speech-recognition streams on "
          + node + ", its share (stt.userShare " + userShare + " of " + capacity + "); end one or try again later");
    }
    int byToken = byToken(spec, held);
    if (byToken >= perToken) {
      throw new MeshException(ErrorCode.QUOTA_EXCEEDED, "this token holds " + byToken + " speech-recognition streams on "
          + node + ", its share (stt.tokenShare " + tokenShare + " of " + capacity + "); end one or try again later");
    }
  }

  /** Whether {@code spec}'s user holds its share of {@code held}. */
  boolean userHoldsShare(SttOpen spec, Collection<SttOpen> held) {
    return byUser(spec, held) >= perUser;
  }

  /** Whether {@code spec}'s token holds its share of {@code held}. */
  boolean tokenHoldsShare(SttOpen spec, Collection<SttOpen> held) {
    return byToken(spec, held) >= perToken;
  }

  private static int byUser(SttOpen spec, Collection<SttOpen> held) {
    return (int) held.stream().filter(other -> spec.userId().equals(other.userId())).count();
  }

  private static int byToken(SttOpen spec, Collection<SttOpen> held) {
    return (int) held.stream().filter(other -> spec.tokenId().equals(other.tokenId())).count();
  }
}
