package io.voicemesh.gateway;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import io.voicemesh.api.Addresses;
import io.voicemesh.api.Bus;
import io.voicemesh.api.message.EventPage;
import io.voicemesh.api.message.EventReplay;
import io.voicemesh.api.message.LoggedEvent;
import java.util.TreeMap;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A session's events for one connection, in seq order with no gap: first those it missed (read
 * from the event log), then the live ones published on {@code session.<id>.events}. Live events
 * that arrive ahead of a missing one are held while the gap is read from the log; the log may lag
 * the live stream by an append in flight, so a gap is re-read a few times before it is skipped.
 */
final class SessionFeed {
  private static final Logger LOG = LoggerFactory.getLogger(SessionFeed.class);
  private static final int REPLAY_PAGE = 500;
  private static final int GAP_ATTEMPTS = 10;
  private static final long GAP_RETRY_MS = 50;

  private final Vertx vertx;
  private final EventBus bus;
  private final ClientChannel channel;
  private final String sessionId;
  private final long requestTimeoutMs;
  private final Consumer<JsonObject> onEnded;
  private final TreeMap<Long, LoggedEvent> held = new TreeMap<>();
  private MessageConsumer<JsonObject> live;
  private boolean catchingUp;
  /** Whether the first catch-up (the replay a connection starts with) is done. */
  private boolean started;
  private int gapAttempts;
  private long replayed;
  private boolean closed;

  SessionFeed(Vertx vertx, ClientChannel channel, String sessionId, long requestTimeoutMs, Consumer<JsonObject> onEnded) {
    this.vertx = vertx;
    this.bus = vertx.eventBus();
    this.channel = channel;
    this.sessionId = sessionId;
    this.requestTimeoutMs = requestTimeoutMs;
    this.onEnded = onEnded;
  }

  /** Subscribes to the live events, then sends what the client missed up to the log's end. */
  Future<Long> start() {
    live = bus.consumer(Addresses.sessionEvents(sessionId), m -> onLive(m.body()));
    return live.completion().compose(v -> {
      Promise<Long> caughtUp = Promise.promise();
      catchUp(caughtUp);
      return caughtUp.future();
    });
  }

  private void onLive(JsonObject event) {
    if (closed || !(event.getValue("seq") instanceof Number number)) {
      return;
    }
    long seq = number.longValue();
    if (seq <= channel.delivered()) {
      return;
    }
    held.put(seq, new LoggedEvent(seq, event.getString("type"), event.encode()));
    if (!catchingUp) {
      drainHeld();
      if (!held.isEmpty()) {
        catchUp(Promise.promise());
      }
    }
  }

  /** Reads the log from the client's position until it has nothing newer, then sends what was held. */
  private void catchUp(Promise<Long> done) {
    catchingUp = true;
    Bus.request(bus, Addresses.SESSION_EVENTS_REPLAY, new EventReplay(sessionId, channel.delivered(), REPLAY_PAGE),
            EventPage.class, requestTimeoutMs)
        .onComplete(page -> {
          if (closed) {
            done.tryComplete(replayed);
            return;
          }
          if (page.succeeded()) {
            for (LoggedEvent event : page.result().events()) {
              held.remove(event.seq());
              if (channel.deliver(event.seq(), event.json())) {
                replayed++;
                ended(event);
              }
            }
            if (page.result().more()) {
              catchUp(done);
              return;
            }
          } else if (!started) {
            // A client that asked for what it missed must not be told it has it all.
            catchingUp = false;
            done.tryFail(page.cause());
            return;
          } else {
            LOG.warn("session {}: event log unavailable for catch-up: {}", sessionId, page.cause().getMessage());
          }
          drainHeld();
          if (held.isEmpty()) {
            gapAttempts = 0;
            catchingUp = false;
            started = true;
            done.tryComplete(replayed);
          } else if (++gapAttempts < GAP_ATTEMPTS) {
            vertx.setTimer(GAP_RETRY_MS, t -> catchUp(done));
          } else {
            // The missing events never reached the log (their writer died): go on without them.
            long first = held.firstKey();
            LOG.warn("session {}: events {}..{} are missing from the log; skipped", sessionId, channel.delivered() + 1,
                first - 1);
            channel.skipTo(first - 1);
            gapAttempts = 0;
            catchingUp = false;
            started = true;
            drainHeld();
            done.tryComplete(replayed);
          }
        });
  }

  private void drainHeld() {
    while (!held.isEmpty()) {
      LoggedEvent next = held.firstEntry().getValue();
      if (next.seq() <= channel.delivered()) {
        held.pollFirstEntry();
      } else if (channel.deliver(next.seq(), next.json())) {
        held.pollFirstEntry();
        ended(next);
      } else {
        return;
      }
    }
  }

  private void ended(LoggedEvent event) {
    if ("session.ended".equals(event.type())) {
      onEnded.accept(new JsonObject(event.json()));
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
