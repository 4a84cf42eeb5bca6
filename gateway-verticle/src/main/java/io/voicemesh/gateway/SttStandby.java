package io.voicemesh.gateway;

import io.voicemesh.api.message.SttEvent;
import io.voicemesh.api.message.SttOpened;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * A hot standby of a session's STT stream ({@code failover.sttStandby}): the same audio, from the
 * same utterance boundary on, decoded on a second node. Its events are held back (the client hears
 * the serving stream's) and matched to the serving stream's by utterance: both decode the same audio
 * from a boundary with the same settings, so the n-th final transcript of each ends the same
 * utterance. When the serving node dies the standby takes over with nothing to replay:
 * {@link #news} is what it heard that the client has not, and {@link #behind} how many utterances
 * the serving stream had ended that the standby has yet to.
 *
 * <p>Positions here are the session's (the standby's events are shifted by its base on arrival).
 */
final class SttStandby {
  /** Held events beyond this are dropped oldest first: a serving stream that long without a final is an anomaly. */
  static final int MAX_HELD = 512;

  private record Held(int utterance, SttEvent event) {
  }

  private final SttOpened stream;
  private final long baseMs;
  /** The standby's events of the utterances the serving stream has not ended, in order. */
  private final ArrayDeque<Held> held = new ArrayDeque<>();
  /** The standby's final transcripts so far: the utterance its next event belongs to. */
  private int finals;
  /** The serving stream's final transcripts since the standby began. */
  private int servingFinals;

  SttStandby(SttOpened stream, long baseMs) {
    this.stream = stream;
    this.baseMs = baseMs;
  }

  SttOpened stream() {
    return stream;
  }

  /** Where the standby's audio begins in the session's audio. */
  long baseMs() {
    return baseMs;
  }

  /** An event of the standby, in session positions. Checkpoints and warnings are its own business. */
  void heard(SttEvent event) {
    int utterance = finals;
    if (event instanceof SttEvent.TranscriptFinal) {
      finals++;
    }
    if (utterance < servingFinals || event instanceof SttEvent.Checkpoint || event instanceof SttEvent.Warning) {
      return;
    }
    held.add(new Held(utterance, event));
    if (held.size() > MAX_HELD) {
      held.removeFirst();
    }
  }

  /** The serving stream ended an utterance (and the client heard it): the standby's events of it are not news. */
  void servingFinal() {
    servingFinals++;
    held.removeIf(h -> h.utterance() < servingFinals);
  }

  /** Events held now. */
  int held() {
    return held.size();
  }

  /** Utterances the serving stream had ended that the standby has not yet: its next events of them are not news. */
  int behind() {
    return Math.max(0, servingFinals - finals);
  }

  /**
   * What the client has not heard, in order, when the standby takes over: the final transcripts of
   * utterances the serving stream did not end, and the speech events and newest partial of each
   * utterance that lie beyond {@code reportedToMs}, the serving stream's last report.
   */
  List<SttEvent> news(long reportedToMs) {
    List<Held> all = new ArrayList<>(held);
    List<SttEvent> news = new ArrayList<>();
    // Walking back, a partial is the newest of its utterance unless a partial or final of it came later.
    Set<Integer> hypothesised = new HashSet<>();
    for (int i = all.size() - 1; i >= 0; i--) {
      Held h = all.get(i);
      SttEvent event = h.event();
      boolean transcript = event instanceof SttEvent.TranscriptPartial || event instanceof SttEvent.TranscriptFinal;
      boolean newest = !transcript || hypothesised.add(h.utterance());
      if (event instanceof SttEvent.TranscriptFinal || newest && event.audioMs() > reportedToMs) {
        news.add(0, event);
      }
    }
    return news;
  }
}
