package io.voicemesh.session;

import io.vertx.core.Future;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.json.JsonObject;
import io.voicemesh.api.Addresses;
import io.voicemesh.api.Json;
import io.voicemesh.api.message.EventAppend;
import io.voicemesh.api.message.EventAppended;
import io.voicemesh.api.message.LoggedEvent;
import io.voicemesh.api.message.SessionActivity;
import io.voicemesh.api.message.SessionGet;
import io.voicemesh.api.message.SessionInfo;
import java.util.function.Function;

/**
 * Publishes {@code dashboard.sessions} from what the session role stores: a session created, ended
 * ({@code DELETE} or idle), and each stored {@code agent_completed} event as {@code turn.completed}
 * (with the session's user and agent, read from its row: one query per turn). A batch retried
 * after an outage may publish a turn twice; dashboards key turns by {@code (sessionId, turnId)}.
 */
final class SessionActivityFeed {
  private static final String AGENT_COMPLETED = "agent_completed";
  private final EventBus bus;
  private final Function<SessionGet, Future<SessionInfo>> sessions;

  SessionActivityFeed(EventBus bus, Function<SessionGet, Future<SessionInfo>> sessions) {
    this.bus = bus;
    this.sessions = sessions;
  }

  /** After {@code session.open}: a new session (not one reopened) has started. */
  SessionInfo opened(SessionInfo info) {
    if (!info.resumed()) {
      publish(SessionActivity.started(info.sessionId(), info.userId(), info.agent(), info.createdAt()));
    }
    return info;
  }

  /** After {@code session.end} logged its {@code session.ended} event. */
  void ended(SessionInfo info, LoggedEvent event) {
    publish(SessionActivity.ended(info.sessionId(), info.userId(), info.agent(), info.endedAt(), reason(event)));
  }

  /** After the idle sweep ended a session. */
  void idleEnded(String sessionId, LoggedEvent event) {
    sessions.apply(new SessionGet(sessionId)).onSuccess(info ->
        publish(SessionActivity.ended(sessionId, info.userId(), info.agent(), info.endedAt(), reason(event))));
  }

  /** After an append stored a batch: each {@code agent_completed} in it is a finished turn. */
  EventAppended appended(EventAppend request, EventAppended reply) {
    if (reply.stored() > 0 && request.events() != null) {
      request.events().stream().filter(e -> AGENT_COMPLETED.equals(e.type())).forEach(completed ->
          sessions.apply(new SessionGet(request.sessionId())).onSuccess(info -> publish(SessionActivity.turnCompleted(
              info.sessionId(), info.userId(), info.agent(), new JsonObject(completed.json())))));
    }
    return reply;
  }

  private static String reason(LoggedEvent event) {
    return event == null ? null : new JsonObject(event.json()).getString("reason");
  }

  private void publish(SessionActivity activity) {
    bus.publish(Addresses.DASHBOARD_SESSIONS, Json.encode(activity));
  }
}
