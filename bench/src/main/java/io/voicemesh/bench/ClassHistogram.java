package io.voicemesh.bench;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Live objects per class, from the mesh JVM's {@code GC.class_histogram} (a full GC first, so only
 * reachable objects count). What counts here that no metric shows: Vert.x timers (each pending
 * {@code setTimer} / {@code setPeriodic} is one live {@code VertxImpl$InternalTimerHandler}),
 * event-bus registrations, WebSockets, sockets and the mesh's own per-session objects.
 */
final class ClassHistogram {
  /** The classes every report shows, by what they stand for. */
  static final Map<String, String> WATCHED = watched();

  private static final Pattern ROW = Pattern.compile("^\\s*\\d+:\\s+(\\d+)\\s+(\\d+)\\s+(\\S+)");

  record Count(long instances, long bytes) {
  }

  /** A class whose live objects changed between two histograms. */
  record Change(String className, long instancesBefore, long instancesAfter, long bytesDelta) {
  }

  private final Map<String, Count> counts;

  private ClassHistogram(Map<String, Count> counts) {
    this.counts = counts;
  }

  static ClassHistogram parse(String text) {
    Map<String, Count> counts = new HashMap<>();
    for (String line : text.split("\n")) {
      Matcher m = ROW.matcher(line);
      if (m.find()) {
        counts.merge(m.group(3), new Count(Long.parseLong(m.group(1)), Long.parseLong(m.group(2))),
            (a, b) -> new Count(a.instances() + b.instances(), a.bytes() + b.bytes()));
      }
    }
    return new ClassHistogram(counts);
  }

  long instances(String className) {
    Count c = counts.get(className);
    return c == null ? 0 : c.instances();
  }

  /** The classes of {@code packagePrefixes} with more live objects here than in {@code before}, most added first. */
  List<Change> grownSince(ClassHistogram before, int limit, String... packagePrefixes) {
    List<Change> grown = new ArrayList<>();
    counts.forEach((name, now) -> {
      boolean watched = packagePrefixes.length == 0;
      for (String prefix : packagePrefixes) {
        watched |= name.startsWith(prefix);
      }
      Count then = before.counts.getOrDefault(name, new Count(0, 0));
      if (watched && now.instances() > then.instances()) {
        grown.add(new Change(name, then.instances(), now.instances(), now.bytes() - then.bytes()));
      }
    });
    grown.sort(Comparator.comparingLong((Change c) -> c.instancesAfter() - c.instancesBefore()).reversed());
    return grown.subList(0, Math.min(limit, grown.size()));
  }

  private static Map<String, String> watched() {
    Map<String, String> w = new java.util.LinkedHashMap<>();
    w.put("io.vertx.core.impl.VertxImpl$InternalTimerHandler", "Vert.x timers (pending setTimer/setPeriodic)");
    w.put("io.vertx.core.eventbus.impl.MessageConsumerImpl", "event-bus consumers");
    w.put("io.vertx.core.eventbus.impl.ReplyHandler", "event-bus reply handlers (requests in flight)");
    w.put("io.vertx.core.http.impl.ServerWebSocketImpl", "server WebSockets");
    w.put("io.netty.channel.socket.nio.NioSocketChannel", "TCP sockets (Netty)");
    w.put("io.voicemesh.gateway.Conversation", "gateway conversations");
    w.put("io.voicemesh.gateway.SttLink", "gateway STT links");
    w.put("io.voicemesh.gateway.Turn", "gateway turns");
    w.put("io.voicemesh.stt.SttSession", "STT node sessions");
    return w;
  }
}
