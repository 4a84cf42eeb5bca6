package io.voicemesh.bench;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/** What the soak's clients saw, counted across all their connections. */
final class SoakStats {
  final LongAdder newSessions = new LongAdder();
  final LongAdder resumesTried = new LongAdder();
  final LongAdder resumed = new LongAdder();
  final LongAdder left = new LongAdder();
  final LongAdder ended = new LongAdder();
  final LongAdder phrasesSpoken = new LongAdder();
  final LongAdder transcripts = new LongAdder();
  final LongAdder emptyTranscripts = new LongAdder();
  final LongAdder turnsCompleted = new LongAdder();
  final LongAdder turnsInterrupted = new LongAdder();
  final LongAdder turnsFailed = new LongAdder();
  final LongAdder unanswered = new LongAdder();
  final LongAdder framesSent = new LongAdder();
  final LongAdder agentAudioBytes = new LongAdder();
  /** Text events, by type. */
  final Map<String, LongAdder> events = new ConcurrentHashMap<>();
  /** {@code error} events, by code. */
  final Map<String, LongAdder> errors = new ConcurrentHashMap<>();
  /** Connections that did not reach {@code session.ready}, by why. */
  final Map<String, LongAdder> connectFailures = new ConcurrentHashMap<>();
  /** Connections the server closed while the client meant to stay, by close code. */
  final Map<String, LongAdder> serverCloses = new ConcurrentHashMap<>();

  static void count(Map<String, LongAdder> counts, String key) {
    counts.computeIfAbsent(key, k -> new LongAdder()).increment();
  }

  static Map<String, Long> snapshot(Map<String, LongAdder> counts) {
    Map<String, Long> copy = new TreeMap<>();
    counts.forEach((k, v) -> copy.put(k, v.sum()));
    return copy;
  }
}
