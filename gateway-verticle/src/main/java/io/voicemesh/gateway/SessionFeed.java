package io.voicemesh.gateway;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.MessageConsumer;
import io.voicemesh.api.event.ConversationEvent;
import io.voicemesh.api.Addresses;
import io.voicemesh.api.Bus;
import io.voicemesh.api.message.EventPage;
import io.voicemesh.api.message.EventReplay;
import io.voicemesh.api.message.LoggedEvent;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A session's events for one connection, in seq order with no gap: first those it missed (read
 * from the event log), then the live ones published on {@code session.<id>.events} (published once
 * stored). Everything read or received goes through one ordered buffer and leaves it only in
 * sequence. When the next event is missing — a batch stored out of order on another session node —
 * the log is read again with growing pauses, for as long as a writer may still be retrying; an
 * event that never arrives (its writer gave up) is then skipped, to the lowest seq actually there.
 */
final class SessionFeed {
  private static final Logger LOG = LoggerFactory.getLogger(SessionFeed.class);
  private static final int REPLAY_PAGE = 500;
  private static final long FIRST_GAP_RETRY_MS = 50;
  private static final long MAX_GAP_RETRY_MS = 2_000;

  private final Vertx vertx;
  private final EventBus bus;
  private final ClientChannel channel;
  private final String sessionId;
  private final long requestTimeoutMs;
  private final long gapWaitMs;
  private final Runnable onEnded;
  private final TreeMap<Long, LoggedEvent> held = new TreeMap<>();
  private MessageConsumer<String> live;
  private boolean catchingUp;
  /** Whether the first catch-up (the replay a connection starts with) is done. */
  private boolean started;
  private long gapSince = -1;
  private long gapRetryMs = FIRST_GAP_RETRY_MS;
  private long replayed;
  private boolean closed;

  /** {@code gapWaitMs}: how long a missing event is waited for before it is skipped. */
  SessionFeed(Vertx vertx, ClientChannel channel, String sessionId, long requestTimeoutMs, long gapWaitMs,
      Runnable onEnded) {
    this.vertx = vertx;
    this.bus = vertx.eventBus();
    this.channel = channel;
    this.sessionId = sessionId;
    this.requestTimeoutMs = requestTimeoutMs;
    this.gapWaitMs = gapWaitMs;
    this.onEnded = onEnded;
  }

  /** Subscribes to the live events, then sends what the client missed, up to the log's end. */
  Future<Long> start() {
    live = bus.consumer(Addresses.sessionEvents(sessionId), m -> onLive(LoggedEvent.from(m)));
    return live.completion().compose(v -> {
      Promise<Long> caughtUp = Promise.promise();
      catchUp(channel.delivered(), caughtUp);
      return caughtUp.future();
    });
  }

  private void onLive(LoggedEvent event) {
    if (closed || event == null) {
      return;
    }
    if (event.seq() <= channel.delivered()) {
      if (ConversationEvent.SESSION_ENDED.equals(event.type())) {
        // Numbered like an event this client already has (a writer that would not let go): still the end.
        onEnded.run();
      }
      return;
    }
    held.put(event.seq(), event);
    drainHeld();
    if (!held.isEmpty() && !catchingUp) {
      catchUp(channel.delivered(), Promise.promise());
    }
  }

  /** Reads the log after {@code after}, page by page, into the ordered buffer, then sends what is in order. */
  private void catchUp(long after, Promise<Long> done) {
    catchingUp = true;
    Bus.request(bus, Addresses.SESSION_EVENTS_REPLAY, new EventReplay(sessionId, after, REPLAY_PAGE),
            EventPage.class, requestTimeoutMs)
        .onComplete(page -> {
          if (closed) {
            done.tryComplete(replayed);
            return;
          }
          if (page.failed() && !started) {
            // A client that asked for what it missed must not be told it has it all.
            catchingUp = false;
            done.tryFail(page.cause());
            return;
          }
          if (page.succeeded()) {
            for (LoggedEvent event : page.result().events()) {
              if (event.seq() > channel.delivered()) {
                held.put(event.seq(), event);
              }
            }
            drainHeld();
            if (page.result().more()) {
              catchUp(page.result().events().get(page.result().events().size() - 1).seq(), done);
              return;
            }
          } else {
            LOG.warn("session {}: event log unavailable for catch-up: {}", sessionId, page.cause().getMessage());
          }
          settle(done);
        });
  }

  /** After a full read of the log: done, or wait for what is missing, or skip it when it is not coming. */
  private void settle(Promise<Long> done) {
    long now = System.currentTimeMillis();
    if (held.isEmpty()) {
      finish(done);
    } else if (gapSince < 0 || now - gapSince < gapWaitMs) {
      if (gapSince < 0) {
        gapSince = now;
      }
      long pause = gapRetryMs;
      gapRetryMs = Math.min(MAX_GAP_RETRY_MS, gapRetryMs * 2);
      vertx.setTimer(pause, t -> catchUp(channel.delivered(), done));
    } else {
      long first = held.firstKey();
      LOG.warn("session {}: events {}..{} are missing from the log; skipped", sessionId, channel.delivered() + 1,
          first - 1);
      channel.skipTo(first - 1);
      drainHeld();
      finish(done);
    }
  }

  private void finish(Promise<Long> done) {
    gapSince = -1;
    gapRetryMs = FIRST_GAP_RETRY_MS;
    catchingUp = false;
    started = true;
    done.tryComplete(replayed);
    if (!held.isEmpty()) {
      catchUp(channel.delivered(), Promise.promise());
    }
  }

  private void drainHeld() {
    while (!held.isEmpty()) {
      LoggedEvent next = held.firstEntry().getValue();
      if (next.seq() <= channel.delivered()) {
        held.pollFirstEntry();
      } else if (channel.deliver(next.seq(), next.json())) {
        held.pollFirstEntry();
        if (!started) {
          replayed++;
        }
        if (ConversationEvent.SESSION_ENDED.equals(next.type())) {
          onEnded.run();
        }
      } else {
        return;
      }
    }
  }

  void close() {
    closed = true;
    held.clear();
    if (live != null) {
      live.unregister();
    }
  }
}
