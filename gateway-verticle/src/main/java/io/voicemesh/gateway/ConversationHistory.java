package io.voicemesh.gateway;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.EventBus;
import io.voicemesh.api.Addresses;
import io.voicemesh.api.Bus;
import io.voicemesh.api.MeshException;
import io.voicemesh.api.message.ChatMessage;
import io.voicemesh.api.message.ContextReply;
import io.voicemesh.api.message.ContextRequest;
import io.voicemesh.api.message.MessageAppend;
import io.voicemesh.api.message.MessageDelete;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A conversation's messages (what the user said, what the agent said and was heard) on their way
 * into the session store, and the recent history a turn gives the model.
 *
 * <p>Messages are stored in order, one append at a time, each retried with growing pauses until
 * the store takes it (a retried append is stored once: the store keys a message by turn and role);
 * the gateway keeps them for at most {@code gateway.storage.outageBufferMs}. The history comes from
 * the store when it has every message and answers in time, and otherwise from what this conversation
 * knows — the store's last answer plus the messages since — so turns go on while the database is away.
 */
final class ConversationHistory {
  private static final Logger LOG = LoggerFactory.getLogger(ConversationHistory.class);
  private static final long RETRY_FIRST_MS = 250;
  private static final long RETRY_MAX_MS = 2_000;

  private record Pending(MessageAppend message, Promise<Void> stored) {
  }

  private final Vertx vertx;
  private final EventBus bus;
  private final GatewaySettings settings;
  private final String sessionId;
  private final ArrayDeque<Pending> unstored = new ArrayDeque<>();
  /** The recent history as this conversation knows it, oldest first, at most {@code contextMessages}. */
  private List<ChatMessage> recent = new ArrayList<>();
  /** Beside each of {@link #recent}: its turn and role, or null when it came from the store. */
  private List<String> recentTurns = new ArrayList<>();
  private boolean appending;
  private long failingSince = -1;

  ConversationHistory(Vertx vertx, GatewaySettings settings, String sessionId) {
    this.vertx = vertx;
    this.bus = vertx.eventBus();
    this.settings = settings;
    this.sessionId = sessionId;
  }

  /** True while messages wait for the store: reading the history from it would miss them. */
  boolean behind() {
    return !unstored.isEmpty();
  }

  /**
   * Adds a message to the history at once and queues it for the store; the future completes once
   * it is stored, or fails when the store refused it or did not take it within the outage bound.
   */
  Future<Void> add(MessageAppend message) {
    remember(new ChatMessage(message.role(), message.text()), message.turnId() + "/" + message.role().wire());
    Pending pending = new Pending(message, Promise.promise());
    unstored.addLast(pending);
    appendNext();
    return pending.stored().future();
  }

  /**
   * Removes the {@code role} message of turn {@code turnId} from the history the model sees, once
   * the messages queued before it are stored (so a delete never overtakes its message). What this
   * gateway remembers for an outage drops the turn's message too.
   */
  Future<Void> delete(String turnId, ChatMessage.Role role) {
    Future<Void> before = unstored.isEmpty() ? Future.succeededFuture() : unstored.peekLast().stored().future();
    int at = recentTurns.lastIndexOf(turnId + "/" + role.wire());
    if (at >= 0) {
      recent.remove(at);
      recentTurns.remove(at);
    }
    return before.transform(stored -> Bus.request(bus, Addresses.SESSION_MESSAGE_DELETE,
        new MessageDelete(sessionId, turnId, role), Void.class, settings.sessionTimeoutMs()));
  }

  /**
   * The history for a turn whose user message is {@code userStored}: read from the store once that
   * message is stored, within {@code sessionTimeoutMs} in all; else (or with {@code userStored}
   * null: the store was behind already) what this conversation knows.
   */
  Future<List<ChatMessage>> context(Future<Void> userStored) {
    if (userStored == null) {
      return Future.succeededFuture(known("the session store is behind"));
    }
    Promise<List<ChatMessage>> context = Promise.promise();
    long timer = vertx.setTimer(settings.sessionTimeoutMs(), t -> context.tryComplete(
        known("the session store did not answer within " + settings.sessionTimeoutMs() + " ms")));
    userStored
        .compose(v -> Bus.request(bus, Addresses.SESSION_CONTEXT, new ContextRequest(sessionId, settings.contextMessages()),
            ContextReply.class, settings.sessionTimeoutMs()))
        .onComplete(reply -> {
          vertx.cancelTimer(timer);
          if (context.future().isComplete()) {
            return;
          }
          if (reply.succeeded() && unstored.isEmpty()) {
            // The store's history also holds what earlier connections of the session said.
            recent = new ArrayList<>(reply.result().messages());
            recentTurns = new ArrayList<>(java.util.Collections.nCopies(recent.size(), (String) null));
            context.complete(List.copyOf(recent));
          } else {
            context.complete(known(reply.failed() ? MeshException.from(reply.cause()).getMessage()
                : "messages wait for the store"));
          }
        });
    return context.future();
  }

  private List<ChatMessage> known(String why) {
    LOG.info("session {}: the turn uses the {} recent messages this gateway knows ({})", sessionId, recent.size(), why);
    return List.copyOf(recent);
  }

  private void remember(ChatMessage message, String turnAndRole) {
    recent.add(message);
    recentTurns.add(turnAndRole);
    while (recent.size() > settings.contextMessages()) {
      recent.remove(0);
      recentTurns.remove(0);
    }
  }

  private void appendNext() {
    if (appending || unstored.isEmpty()) {
      return;
    }
    appending = true;
    store(unstored.peekFirst(), 1);
  }

  private void store(Pending pending, int attempt) {
    long sentAt = System.nanoTime();
    Bus.request(bus, Addresses.SESSION_MESSAGE_ADD, pending.message(), Void.class, settings.sessionTimeoutMs())
        .onComplete(outcome -> {
          if (outcome.succeeded()) {
            if (failingSince >= 0) {
              LOG.info("session {}: messages are stored again after {} ms", sessionId,
                  (System.nanoTime() - failingSince) / 1_000_000);
              failingSince = -1;
            }
            settle(pending, null);
            return;
          }
          MeshException error = MeshException.from(outcome.cause());
          long now = System.nanoTime();
          if (failingSince < 0) {
            failingSince = sentAt; // the log has not taken anything since this attempt went out
          }
          if (!error.code().isTransient() || (now - failingSince) / 1_000_000 >= settings.outageBufferMs()) {
            LOG.error("session {}: the {} message of turn {} was not stored: {}", sessionId,
                pending.message().role().wire(), pending.message().turnId(), error.getMessage());
            settle(pending, error);
            return;
          }
          long pauseMs = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS << Math.min(attempt - 1, 4));
          vertx.setTimer(pauseMs, t -> store(pending, attempt + 1));
        });
  }

  private void settle(Pending pending, MeshException failure) {
    unstored.pollFirst();
    appending = false;
    if (failure == null) {
      pending.stored().complete();
    } else {
      pending.stored().fail(failure);
    }
    appendNext();
  }
}
