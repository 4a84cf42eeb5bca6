package io.voicemesh.gateway;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.json.JsonObject;
import io.voicemesh.api.Addresses;
import io.voicemesh.api.Bus;
import io.voicemesh.api.ErrorCode;
import io.voicemesh.api.MeshException;
import io.voicemesh.api.MeshMetrics;
import io.voicemesh.api.message.EventAppend;
import io.voicemesh.api.message.EventAppended;
import io.voicemesh.api.message.LoggedEvent;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A session's writer side of the event log: numbers the session's events, batches them, stores them
 * in order and, once stored, publishes them for listeners (and dashboards, and the Kafka relay's
 * readers of the log) — no socket involved.
 *
 * <pre>
 *  append(type, fields) ─▶ {type, seq, sessionId, ts, …} ─▶ batch (one per event-loop task)
 *        │ returned to the caller (the speaker's socket gets it at once)
 *        ▼
 *  unstored (ordered) ─▶ session.events.append, one in flight, retried with growing pauses
 *        ▼ stored
 *  publish on session.&lt;id&gt;.events (JSON text, seq and type in headers), in order
 * </pre>
 *
 * The log may be away (the database restarts or stalls): events made meanwhile wait in the ordered
 * buffer and are appended in order, each append retried until it is stored (the store keeps a
 * retried batch once, even when an earlier attempt lands late). Only when the log stays away longer
 * than {@code gateway.storage.outageBufferMs}, or the buffer outgrows its event or byte cap, does
 * the writer give up: {@code storage_unavailable}. A store that says another connection holds the
 * writer role ends writing with {@code taken_over}.
 */
final class SessionEventLog {
  private static final Logger LOG = LoggerFactory.getLogger(SessionEventLog.class);
  private static final long APPEND_RETRY_FIRST_MS = 250;
  private static final long APPEND_RETRY_MAX_MS = 2_000;
  /** The most events one append carries (the store takes at most 1000). */
  private static final int APPEND_MAX_EVENTS = 500;

  private final Vertx vertx;
  private final EventBus bus;
  private final String writerId;
  private final GatewaySettings settings;
  private final Consumer<ErrorCode> onLost;
  private String sessionId;
  private boolean writing;
  private long lastSeq;
  private List<LoggedEvent> batch = new ArrayList<>();
  /** Made but not yet stored, oldest first; the head of it may be on its way to the store. */
  private final ArrayDeque<LoggedEvent> unstored = new ArrayDeque<>();
  private long unstoredBytes;
  private boolean appending;
  /** When the current run of failed appends began (System.nanoTime), or -1 while the log is writable. */
  private long failingSince = -1;
  /** The writer gave up on the log (fenced out, or the outage outlasted the buffer): nothing more is stored. */
  private boolean storageLost;
  private final List<Promise<Void>> drainWaiters = new ArrayList<>();

  /**
   * {@code writerId} is the connection holding the session's writer role (the store fences out
   * others); {@code onLost} is told when the log can no longer take this writer's events:
   * {@code taken_over} or {@code storage_unavailable}.
   */
  SessionEventLog(Vertx vertx, String writerId, GatewaySettings settings, Consumer<ErrorCode> onLost) {
    this.vertx = vertx;
    this.bus = vertx.eventBus();
    this.writerId = writerId;
    this.settings = settings;
    this.onLost = onLost;
  }

  /**
   * The longest a writer may take to store an event, retries through an outage included: how long
   * a gap is worth waiting for. (The last attempt starts within the outage bound and may take its timeout.)
   */
  static long appendBudgetMs(GatewaySettings settings) {
    return settings.outageBufferMs() + 2 * settings.sessionTimeoutMs() + APPEND_RETRY_MAX_MS + 1_000;
  }

  /** Starts writing the session's events after {@code lastSeq} (the newest one stored). */
  void open(String sessionId, long lastSeq) {
    this.sessionId = sessionId;
    this.lastSeq = lastSeq;
    this.writing = true;
  }

  /**
   * Makes the session's next event of {@code type}: numbered, stamped, queued for storing; returned
   * for the caller to send its own client at once. Null once this writer no longer writes.
   */
  LoggedEvent append(String type, JsonObject fields) {
    if (!writing) {
      return null;
    }
    long seq = ++lastSeq;
    JsonObject event = new JsonObject()
        .put("type", type)
        .put("seq", seq)
        .put("sessionId", sessionId)
        .put("ts", System.currentTimeMillis())
        .mergeIn(fields);
    LoggedEvent logged = new LoggedEvent(seq, type, event.encode());
    // Events made in one event-loop task travel to the log as one append.
    if (batch.isEmpty()) {
      vertx.runOnContext(v -> flushBatch());
    }
    batch.add(logged);
    return logged;
  }

  /** The newest seq made (stored or not). */
  long lastSeq() {
    return lastSeq;
  }

  /**
   * Stops making session events (the writer role is being handed over or the session ends); later
   * {@link #append}s make nothing. The future completes when every event made so far is stored.
   */
  Future<Void> stopWriting() {
    writing = false;
    flushBatch(); // events of this very task too, not only those already on their way
    return drained();
  }

  /** True while events wait for the log to come back. */
  boolean storageBehind() {
    return failingSince >= 0;
  }

  /** Completes once every event made so far is stored (or the writer gave up on the log). */
  private Future<Void> drained() {
    if (unstored.isEmpty() && !appending) {
      return Future.succeededFuture();
    }
    Promise<Void> waiter = Promise.promise();
    drainWaiters.add(waiter);
    return waiter.future();
  }

  private void flushBatch() {
    List<LoggedEvent> events = batch;
    batch = new ArrayList<>();
    if (events.isEmpty() || storageLost) {
      return;
    }
    for (LoggedEvent event : events) {
      unstored.addLast(event);
      unstoredBytes += event.json().length();
    }
    if (unstored.size() > settings.outageBufferEvents() || unstoredBytes > settings.outageBufferBytes()) {
      giveUp("more than " + settings.outageBufferEvents() + " events or " + settings.outageBufferBytes()
          + " bytes wait for the event log");
      return;
    }
    appendNext();
  }

  /** Sends the oldest unstored events, unless an append is on its way already: one at a time, in order. */
  private void appendNext() {
    if (appending || storageLost) {
      return;
    }
    if (unstored.isEmpty()) {
      releaseDrainWaiters();
      return;
    }
    appending = true;
    List<LoggedEvent> head = new ArrayList<>(Math.min(unstored.size(), APPEND_MAX_EVENTS));
    for (LoggedEvent event : unstored) {
      if (head.size() == APPEND_MAX_EVENTS) {
        break;
      }
      head.add(event);
    }
    store(new EventAppend(sessionId, writerId, head), 1);
  }

  private void store(EventAppend append, int attempt) {
    long sentAt = System.nanoTime();
    Bus.request(bus, Addresses.SESSION_EVENTS_APPEND, append, EventAppended.class, settings.sessionTimeoutMs())
        .onComplete(outcome -> {
          if (storageLost) {
            return;
          }
          if (outcome.succeeded()) {
            stored(append, outcome.result());
            return;
          }
          MeshException error = MeshException.from(outcome.cause());
          long now = System.nanoTime();
          if (failingSince < 0) {
            failingSince = sentAt; // the log has not taken anything since this attempt went out
            LOG.warn("session {}: the event log does not take events ({}: {}); keeping them, in order, for up to {} ms",
                sessionId, error.code().wire(), error.getMessage(), settings.outageBufferMs());
          }
          if (!error.code().isTransient()) {
            giveUp("the event log refused them: " + error.code().wire());
          } else if ((now - failingSince) / 1_000_000 >= settings.outageBufferMs()) {
            giveUp("the event log did not take them for " + settings.outageBufferMs() + " ms");
          } else {
            long pauseMs = Math.min(APPEND_RETRY_MAX_MS, APPEND_RETRY_FIRST_MS << Math.min(attempt - 1, 4));
            vertx.setTimer(pauseMs, t -> store(append, attempt + 1));
          }
        });
  }

  private void stored(EventAppend append, EventAppended reply) {
    if (failingSince >= 0) {
      LOG.info("session {}: the event log takes events again after {} ms; {} waited", sessionId,
          (System.nanoTime() - failingSince) / 1_000_000, unstored.size());
      failingSince = -1;
    }
    appending = false;
    if (!reply.writer()) {
      // Another connection holds the writer role now (or the session ended): stop writing.
      writing = false;
      storageLost = true;
      unstored.clear();
      releaseDrainWaiters();
      onLost.accept(ErrorCode.TAKEN_OVER);
      return;
    }
    // Stored: now listeners may see them, in order.
    for (LoggedEvent event : append.events()) {
      LoggedEvent head = unstored.pollFirst();
      unstoredBytes -= head.json().length();
      bus.publish(Addresses.sessionEvents(sessionId), event.json(), event.toDeliveryOptions());
    }
    appendNext();
  }

  /** The log cannot take this writer's events: a hole in it would stall every resume and listener, so the writer stops. */
  private void giveUp(String why) {
    LOG.error("session {}: events {}..{} were not stored: {}", sessionId, unstored.peekFirst().seq(),
        unstored.peekLast().seq(), why);
    MeshMetrics.error(ErrorCode.STORAGE_UNAVAILABLE);
    writing = false;
    storageLost = true;
    appending = false;
    unstored.clear();
    unstoredBytes = 0;
    releaseDrainWaiters();
    onLost.accept(ErrorCode.STORAGE_UNAVAILABLE);
  }

  private void releaseDrainWaiters() {
    drainWaiters.forEach(Promise::tryComplete);
    drainWaiters.clear();
  }
}
