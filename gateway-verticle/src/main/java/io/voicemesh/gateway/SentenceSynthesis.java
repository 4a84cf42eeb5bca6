package io.voicemesh.gateway;

import io.vertx.core.Future;
import io.voicemesh.api.ErrorCode;
import io.voicemesh.api.MeshException;
import io.voicemesh.api.message.SynthesizeDone;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One turn's sentences on their way through TTS workers, one {@code tts.synthesize} each, numbered
 * in the order they are spoken. A sentence whose node leaves the cluster, or whose worker is
 * unavailable, is synthesized once more elsewhere; its audio resumes at the next chunk (the
 * {@link AudioPlayout} skips chunks it has played). Every sentence ends exactly once: synthesized
 * or failed.
 */
final class SentenceSynthesis {
  private static final Logger LOG = LoggerFactory.getLogger(SentenceSynthesis.class);

  /** What becomes of the sentences. */
  interface Listener {
    void sentenceSynthesized(int index, SynthesizeDone done);

    void sentenceFailed(int index, MeshException error);

    /** A sentence was spoken by a fallback engine; said once per turn, not per sentence. */
    void synthesisFellBack(String warning);
  }

  /** A sentence whose synthesis is not done yet: the node it runs on (null until known) and its attempt. */
  private static final class Pending {
    final String text;
    int attempt = 1;
    String node;

    Pending(String text) {
      this.text = text;
    }
  }

  /** Sends {@code tts.synthesize} for (sentence index, text); completes when its audio is all sent. */
  private final BiFunction<Integer, String, Future<SynthesizeDone>> synthesize;
  private final Listener listener;
  private final Map<Integer, Pending> pending = new HashMap<>();
  private final Set<String> nodes = new LinkedHashSet<>();
  private int count;
  private boolean stopped;
  private boolean fellBack;

  SentenceSynthesis(BiFunction<Integer, String, Future<SynthesizeDone>> synthesize, Listener listener) {
    this.synthesize = synthesize;
    this.listener = listener;
  }

  /** Starts speaking the next sentence; returns its index. */
  int speak(String sentence) {
    int index = count++;
    Pending next = new Pending(sentence);
    pending.put(index, next);
    request(index, next);
    return index;
  }

  /** How many sentences were given so far. */
  int count() {
    return count;
  }

  /** The nodes that synthesized this turn's audio, in order of first use. */
  List<String> nodes() {
    return List.copyOf(nodes);
  }

  /** A chunk of sentence {@code index} came from {@code node}. */
  void chunkFrom(int index, String node) {
    Pending sentence = pending.get(index);
    if (sentence != null && sentence.node == null) {
      sentence.node = node;
    }
    if (node != null) {
      nodes.add(node);
    }
  }

  /** The turn ends: no sentence is tried again. */
  void stop() {
    stopped = true;
  }

  /** A node with the TTS role left: its sentences, and those whose node is not known yet, are tried again. */
  void nodeLeft(String node) {
    List.copyOf(pending.entrySet()).forEach(e -> {
      Pending sentence = e.getValue();
      if (sentence.node == null || sentence.node.equals(node)) {
        retry(e.getKey(), sentence, "TTS node " + node + " left");
      }
    });
  }

  private void request(int index, Pending sentence) {
    int attempt = sentence.attempt;
    synthesize.apply(index, sentence.text).onComplete(outcome -> {
      if (pending.get(index) != sentence) {
        return; // an attempt already settled the sentence
      }
      if (outcome.succeeded()) {
        pending.remove(index);
        nodes.add(outcome.result().node());
        if (outcome.result().warning() != null && !fellBack) {
          fellBack = true;
          listener.synthesisFellBack(outcome.result().warning());
        }
        listener.sentenceSynthesized(index, outcome.result());
        return;
      }
      if (sentence.attempt != attempt) {
        return; // superseded by a retry, which settles it
      }
      MeshException error = MeshException.from(outcome.cause());
      if (error.code() == ErrorCode.ENGINE_UNAVAILABLE && attempt == 1 && !stopped) {
        retry(index, sentence, error.getMessage());
        return;
      }
      pending.remove(index);
      listener.sentenceFailed(index, error);
    });
  }

  private void retry(int index, Pending sentence, String why) {
    if (sentence.attempt > 1) {
      return;
    }
    LOG.info("sentence {} once more on another TTS node: {}", index, why);
    sentence.attempt++;
    sentence.node = null;
    request(index, sentence);
  }
}
