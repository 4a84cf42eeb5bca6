package io.voicemesh.gateway;

import io.voicemesh.api.message.SttEvent;
import io.voicemesh.api.message.SttOpened;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;

/**
 * A hot standby of a session's STT stream ({@code failover.sttStandby}): the same audio, from the
 * same utterance boundary on, decoded on a second node. Its events are held back (the client hears
 * the serving stream's) and matched to the serving stream's by utterance: both decode the same audio
 * from a boundary with the same settings, so the n-th final transcript of each ends the same
 * utterance, at the same place. Where the n-th finals of the two are further apart than
 * {@link #FINALS_APART_MS}, the standby has drifted ({@link #misaligned}) and is no use. When the
 * serving node dies the standby takes over with nothing to replay: {@link #news} is what it heard
 * that the client has not, and {@link #behind} how many utterances the serving stream had ended
 * that the standby has yet to.
 *
 * <p>Positions here are the session's (the standby's events are shifted by its base on arrival).
 */
final class SttStandby {
  /** Held events beyond this drop their oldest partial: a serving stream that long without a final is an anomaly. */
  static final int MAX_HELD = 512;
  /** Paired finals further apart than this end their utterances at different places: the streams drifted. */
  static final long FINALS_APART_MS = 200;

  private record Held(int utterance, SttEvent event) {
  }

  private final SttOpened stream;
  private final long baseMs;
  /** The standby's events of the utterances the serving stream has not ended, in order. */
  private final ArrayDeque<Held> held = new ArrayDeque<>();
  /** Where the finals of one stream not yet paired with the other's ended their utterances. */
  private final ArrayDeque<Long> unpairedStandbyFinals = new ArrayDeque<>();
  private final ArrayDeque<Long> unpairedServingFinals = new ArrayDeque<>();
  /** The standby's final transcripts so far: the utterance its next event belongs to. */
  private int finals;
  /** The serving stream's final transcripts since the standby began. */
  private int servingFinals;
  private boolean misaligned;

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
    if (event instanceof SttEvent.TranscriptFinal fin) {
      finals++;
      pair(unpairedStandbyFinals, unpairedServingFinals, fin.audioMs());
    }
    if (utterance < servingFinals || event instanceof SttEvent.Checkpoint || event instanceof SttEvent.Warning) {
      return;
    }
    held.add(new Held(utterance, event));
    if (held.size() > MAX_HELD) {
      dropOldestPartial();
    }
  }

  /** The serving stream ended an utterance at {@code atMs} (and the client heard it): the standby's events of it are not news. */
  void servingFinal(long atMs) {
    servingFinals++;
    held.removeIf(h -> h.utterance() < servingFinals);
    pair(unpairedServingFinals, unpairedStandbyFinals, atMs);
  }

  /** The two streams ended an utterance at different places: their counts no longer say which is which. */
  boolean misaligned() {
    return misaligned;
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
   * utterances the serving stream did not end; of the utterance under way, the speech events and
   * newest partial that lie beyond {@code reportedToMs}, the serving stream's last report; of later
   * utterances (which the serving stream never reported), their speech events and newest partial.
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
      boolean unreported = h.utterance() > servingFinals || event.audioMs() > reportedToMs;
      if (event instanceof SttEvent.TranscriptFinal || newest && unreported) {
        news.add(0, event);
      }
    }
    return news;
  }

  private void pair(ArrayDeque<Long> mine, ArrayDeque<Long> theirs, long atMs) {
    if (theirs.isEmpty()) {
      mine.add(atMs);
    } else if (Math.abs(theirs.removeFirst() - atMs) > FINALS_APART_MS) {
      misaligned = true;
    }
  }

  /** Over the bound: the oldest partial goes (a newer one of its utterance says more); finals stay. */
  private void dropOldestPartial() {
    for (Iterator<Held> it = held.iterator(); it.hasNext(); ) {
      if (it.next().event() instanceof SttEvent.TranscriptPartial) {
        it.remove();
        return;
      }
    }
    held.removeFirst();
  }
}
