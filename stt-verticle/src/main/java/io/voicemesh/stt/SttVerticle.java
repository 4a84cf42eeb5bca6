package io.voicemesh.stt;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import io.voicemesh.api.Addresses;
import io.voicemesh.api.Bus;
import io.voicemesh.api.Drainable;
import io.voicemesh.api.ErrorCode;
import io.voicemesh.api.MeshException;
import io.voicemesh.api.MeshMetrics;
import io.voicemesh.api.Role;
import io.voicemesh.api.engine.Engines;
import io.voicemesh.api.engine.SttEngine;
import io.voicemesh.api.engine.SttEngineProvider;
import io.voicemesh.api.Json;
import io.voicemesh.api.audio.SpeechDetector;
import io.voicemesh.api.message.NodeLeft;
import io.voicemesh.api.message.RoleStatus;
import io.voicemesh.api.message.SttControl;
import io.voicemesh.api.message.SttEvent;
import io.voicemesh.api.message.SttOpen;
import io.voicemesh.api.message.SttOpened;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The speech-to-text role: takes sessions' audio streams ({@code stt.open}) up to its capacity
 * and turns audio into speech events and transcripts. A full node stops listening on
 * {@code stt.open}, so the event bus's round-robin only picks nodes with room; an open that
 * still reaches it while that news spreads is refused with {@code capacity}.
 *
 * <p>Config: {@code engine} (default {@code vosk}) and an object of that name with the engine's
 * settings; {@code fallbackEngine} (an embedded engine that takes a session over while a remote
 * engine's workers are unavailable, with its settings under its name; empty for none); {@code capacity} (concurrent sessions, default 50); {@code workerThreads} (default 4);
 * {@code idleTimeoutMs} (a stream with no frame for this long is closed, default 120000); {@code userShare} and
 * {@code tokenShare} (the fraction of the capacity one user, one token may hold, {@link StreamShares}); {@code node}.
 *
 * <p>A stream may be a gateway's hot standby of a session's stream on another node
 * ({@code SttOpen.standby}): it is decoded like any other, its events go to the gateway, which holds
 * them back, until the gateway tells it to serve ({@code SttControl.Serve}). A node never holds both
 * of one session's streams. A standby has its place only while no stream needs it: a stream's open
 * that finds the node full, or its user's or token's share held by standbys, closes as many
 * standbys as it takes ({@link #standbysInTheWayOf}), so standbys use spare capacity and never cost
 * a session its stream. The node takes opens ({@code stt.open}) while it has room for a stream; its
 * status and {@code voicemesh_sessions} count streams, {@code voicemesh_stt_standby_streams} standbys.
 *
 * <p>{@link #drain}: the node is stopping. It stops taking streams, tells the cluster
 * ({@code Addresses.NODE_DRAINING}) so gateways move its streams to other nodes with their audio
 * replayed, as when a node is lost, and closes its streams.
 */
public final class SttVerticle extends VerticleBase implements Drainable {
  private static final int MIN_RATE_HZ = 8_000;
  private static final int MAX_RATE_HZ = 48_000;
  private static final long UNCLAIMED_MS = 10_000;

  /** The streams serving, by session ({@link #key}: a session's standby apart from its stream). */
  private final Map<String, SttSession> sessions = new HashMap<>();
  /** Every stream by id, from its open until its close has finished: where this node's stream address routes. */
  private final Map<String, SttSession> streams = new HashMap<>();
  private String streamsAddress;
  private WorkerExecutor worker;
  private SttEngine engine;
  /** The embedded engine a remote one falls back to; null without one. */
  private SttEngine fallback;
  private String fallbackName;
  private int capacity;
  /**
   * Every open with an id ({@code SttOpen.openId}) from its arrival until its stream is released: the
   * same open arriving again (raced, retried) gets the same stream.
   */
  private final Map<String, Future<SttOpened>> opensById = new HashMap<>();
  /** Opens accepted and not yet serving: they count against the capacity and the shares. */
  private final List<SttOpen> opening = new ArrayList<>();
  private StreamShares shares;
  private UserFairPool recognizers;
  /** The {@code stt.open} registration; null while the node is full. */
  private MessageConsumer<Object> opener;
  private String node;
  private SttSession.Meters meters;
  /** Streams opened and not yet finished closing; each holds a recognizer while its audio is not quiet. */
  private final AtomicInteger recognizersHeld = new AtomicInteger();
  private boolean draining;

  @Override
  public Future<?> start() {
    JsonObject config = config();
    String engineName = config.getString("engine", "vosk");
    JsonObject engineConfig = config.getJsonObject(engineName, new JsonObject());
    capacity = config.getInteger("capacity", 50);
    shares = StreamShares.from(config, capacity);
    long idleTimeoutMs = config.getLong("idleTimeoutMs", 120_000L);
    // The gateway gives up on an open after its sttOpenMs; a stream never fed is closed soon after.
    long checkEveryMs = Math.min(UNCLAIMED_MS / 2, Math.max(1000, idleTimeoutMs / 4));
    node = config.getString("node", "local");
    int threads = config.getInteger("workerThreads", 4);
    worker = vertx.createSharedWorkerExecutor("voicemesh-stt", threads);
    recognizers = new UserFairPool(worker, threads);
    meters = new SttSession.Meters(MeshMetrics.timer(MeshMetrics.AUDIO_HOP),
        MeshMetrics.timer(MeshMetrics.STT_FINAL_LATENCY));
    MeshMetrics.sessions(Role.STT, node, this::streamsServing);
    MeshMetrics.recognizers(node, recognizersHeld::get);
    MeshMetrics.standbyStreams(node, () -> sessions.values().stream().filter(SttSession::standby).count());
    fallbackName = config.getString("fallbackEngine", "");
    return worker.executeBlocking(() -> Engines.create(SttEngineProvider.class, engineName, vertx, engineConfig))
        .compose(created -> {
          engine = created;
          return worker.executeBlocking(() -> Engines.createFallback(SttEngineProvider.class, engineName, vertx, config));
        })
        .compose(embedded -> {
          fallback = embedded;
          vertx.setPeriodic(checkEveryMs, id -> closeIdle(idleTimeoutMs));
          vertx.eventBus().localConsumer(Addresses.NODE_LEFT, m -> gatewayLeft(Json.decode(m.body(), NodeLeft.class)));
          EventBus bus = vertx.eventBus();
          List<MessageConsumer<Object>> consumers = new ArrayList<>(Bus.serveStatus(bus, Role.STT,
              () -> Future.succeededFuture(new RoleStatus(Role.STT.id(), node, true, streamsServing(), capacity, engine.workers()))));
          streamsAddress = Addresses.sttStreams(node);
          consumers.add(bus.consumer(streamsAddress, this::streamMessage));
          admitWhileRoom();
          if (opener != null) {
            consumers.add(opener);
          }
          return Future.all(consumers.stream().map(MessageConsumer::completion).toList());
        });
  }

  private Future<SttOpened> open(SttOpen spec) {
    Future<SttOpened> same = spec.openId() == null ? null : opensById.get(spec.openId());
    if (same != null) {
      return same;
    }
    Future<SttOpened> opened = openNew(spec);
    if (spec.openId() != null && !opened.failed()) {
      opensById.put(spec.openId(), opened);
      opened.onFailure(e -> opensById.remove(spec.openId(), opened));
    }
    return opened;
  }

  private Future<SttOpened> openNew(SttOpen spec) {
    if (spec.sessionId() == null || spec.eventsAddress() == null
        || spec.sampleRateHz() < MIN_RATE_HZ || spec.sampleRateHz() > MAX_RATE_HZ || spec.silenceMs() < 100
        || spec.minSpeechMs() < SpeechDetector.FRAME_MS || spec.userId() == null || spec.tokenId() == null) {
      return Future.failedFuture(new MeshException(ErrorCode.BAD_REQUEST,
          "stt.open needs sessionId, eventsAddress, userId, tokenId, a rate of 8000 to 48000 Hz, silenceMs >= 100 "
              + "and minSpeechMs >= 20"));
    }
    if (draining) {
      return Future.failedFuture(new MeshException(ErrorCode.CAPACITY, "STT node " + node + " is stopping"));
    }
    if (spec.standby() && sessions.containsKey(key(spec.sessionId(), false))) {
      return Future.failedFuture(new MeshException(ErrorCode.CAPACITY,
          "STT node " + node + " serves this session's stream; its standby must be on another node"));
    }
    SttSession previous = sessions.remove(key(spec));
    Future<Void> released = previous == null ? Future.succeededFuture() : previous.close("reopened");
    SttSession standby = spec.standby() ? null : sessions.remove(key(spec.sessionId(), true));
    if (standby != null) {
      // The session's stream came here (its node died before the standby could take over, or the
      // gateway moved it): one node holding both would be no standby at all.
      standby.close("the session's stream moved to this node");
    }
    // Standbys give a stream their places, but only when that lets the stream in.
    List<SttSession> givingWay = spec.standby() ? List.of() : standbysInTheWayOf(spec);
    givingWay.forEach(yielding -> sessions.remove(key(yielding), yielding));
    try {
      List<SttOpen> held = held(spec);
      if (held.size() >= capacity) {
        throw new MeshException(ErrorCode.CAPACITY, "STT node " + node + " serves " + capacity + " sessions already");
      }
      shares.admit(spec, held, node);
    } catch (MeshException refused) {
      givingWay.forEach(kept -> sessions.put(key(kept), kept)); // not needed after all
      admitWhileRoom();
      return Future.failedFuture(refused);
    }
    if (!givingWay.isEmpty()) {
      // The stream waits for their recognizers, so it takes one of them rather than a new one.
      Future<Void> given = Future.join(givingWay.stream().map(yielding -> yielding.giveWay(
          "STT node " + node + " needs its place for a session's stream (a standby gives way)")).toList())
          .<Void>mapEmpty().otherwiseEmpty();
      released = released.compose(v -> given);
    }
    opening.add(spec);
    admitWhileRoom();
    return released
        .compose(v -> worker.executeBlocking(() -> fallback == null
            ? engine.open(spec.sampleRateHz())
            : FallbackStream.open(engine, fallback, fallbackName, spec.sampleRateHz())))
        .map(stream -> {
          SttSession session = new SttSession(vertx, recognizers, spec, stream, meters, recognizersHeld, this::released);
          streams.put(session.id(), session);
          SttSession replaced = sessions.put(key(spec), session);
          if (replaced != null) {
            // Two opens of one session overlapped (the gateway retried one that was slow): the newest
            // wins, and the one it displaces is closed here — out of the map, nothing else would.
            replaced.close("reopened");
          }
          if (draining) {
            session.close("STT node " + node + " is stopping"); // began stopping while this opened
          } else if (spec.standby() && !roomForStandby(session)) {
            // Streams admitted while it opened (they do not wait for opening standbys) took the room.
            session.giveWay("STT node " + node + " filled up while the standby opened (a standby gives way)");
          }
          return new SttOpened(streamsAddress, session.id(), node);
        })
        .andThen(done -> {
          // By identity: a record's equals links its bootstrap on first use, an event-loop stall on a cold node.
          for (java.util.Iterator<SttOpen> pending = opening.iterator(); pending.hasNext(); ) {
            if (pending.next() == spec) {
              pending.remove();
              break;
            }
          }
          admitWhileRoom();
        });
  }

  /** Sessions this node serves with a stream (not a standby). */
  private int streamsServing() {
    return (int) sessions.values().stream().filter(session -> !session.standby()).count();
  }

  /**
   * The places {@code spec} competes for, and what its shares are measured against: every stream
   * and standby held, and every open under way; except that a stream does not count opening
   * standbys, which give way once open.
   */
  private List<SttOpen> held(SttOpen spec) {
    List<SttOpen> held = new ArrayList<>();
    opening.stream().filter(open -> spec.standby() || !open.standby()).forEach(held::add);
    sessions.values().forEach(session -> held.add(session.spec()));
    return held;
  }

  /** Whether {@code spec} fits beside {@code held}: a place free, and its user's and token's shares. */
  private boolean fits(SttOpen spec, List<SttOpen> held) {
    return held.size() < capacity && !shares.userHoldsShare(spec, held) && !shares.tokenHoldsShare(spec, held);
  }

  /**
   * The standbys whose places let {@code stream} (a session's stream) in: none when it needs none,
   * or when it would be refused anyway. While the node is full any standby helps; while the user's
   * or token's share is held, only one of that user or token. The same user's and token's go first.
   */
  private List<SttSession> standbysInTheWayOf(SttOpen stream) {
    List<SttOpen> held = held(stream);
    List<SttSession> standbys = sessions.values().stream().filter(SttSession::standby)
        .sorted(java.util.Comparator.comparingInt(s -> (s.spec().userId().equals(stream.userId()) ? 0 : 2)
            + (s.spec().tokenId().equals(stream.tokenId()) ? 0 : 1)))
        .toList();
    List<SttSession> inTheWay = new ArrayList<>();
    for (SttSession standby : standbys) {
      if (fits(stream, held)) {
        break;
      }
      boolean helps = held.size() >= capacity
          || standby.spec().userId().equals(stream.userId()) && shares.userHoldsShare(stream, held)
          || standby.spec().tokenId().equals(stream.tokenId()) && shares.tokenHoldsShare(stream, held);
      if (helps) {
        inTheWay.add(standby);
        held.removeIf(open -> open == standby.spec()); // by identity, as in openNew
      }
    }
    return fits(stream, held) ? inTheWay : List.of();
  }

  /** Whether {@code standby}, now open, fits beside every stream, standby and open under way. */
  private boolean roomForStandby(SttSession standby) {
    List<SttOpen> others = held(standby.spec());
    others.removeIf(open -> open == standby.spec());
    return fits(standby.spec(), others);
  }

  /**
   * A message to this node's stream address: a frame or control of the stream its header names,
   * or a gateway's probe. A stream this node does not know (closed, or opened before a restart
   * under the same name) is answered with {@code stream.closed}, so its gateway moves it.
   */
  private void streamMessage(Message<Object> message) {
    String id = message.headers().get(SttOpen.STREAM_HEADER);
    if (id == null) {
      if (message.replyAddress() != null) {
        message.reply("ok"); // a probe
      }
      return;
    }
    SttSession session = streams.get(id);
    if (session != null) {
      if (message.body() instanceof JsonObject control && Json.decode(control, SttControl.class) instanceof SttControl.Serve) {
        serve(session);
      } else {
        session.receive(message);
      }
      return;
    }
    String events = message.headers().get(SttOpen.EVENTS_HEADER);
    if (events != null && message.body() instanceof io.vertx.core.buffer.Buffer) {
      vertx.eventBus().send(events, Json.encode(new SttEvent.StreamClosed(id, "STT node " + node + " has no stream " + id, 0)),
          new DeliveryOptions().addHeader(SttOpen.STREAM_HEADER, id));
    }
  }

  /** Where {@link #sessions} keeps a stream: a session's stream and its standby under their own keys. */
  private static String key(SttOpen spec) {
    return key(spec.sessionId(), spec.standby());
  }

  private static String key(SttSession session) {
    return key(session.spec().sessionId(), session.standby());
  }

  /** A standby whose session's stream was lost on another node serves the session from now on. */
  private void serve(SttSession standby) {
    if (!standby.standby() || !sessions.remove(key(standby), standby)) {
      return;
    }
    standby.serve();
    SttSession displaced = sessions.put(key(standby), standby);
    if (displaced != null) {
      displaced.close("replaced by the session's standby");
    }
    admitWhileRoom(); // a stream now, it takes a place for streams
  }

  private static String key(String sessionId, boolean standby) {
    return standby ? sessionId + "#standby" : sessionId;
  }

  /** A stream's close has finished: it is no longer routed, and its place is free. */
  private void released(SttSession session) {
    streams.remove(session.id(), session);
    if (session.spec().openId() != null) {
      opensById.remove(session.spec().openId());
    }
    sessions.remove(key(session), session);
    admitWhileRoom();
  }

  /**
   * Listens on {@code stt.open} while this node has room for another stream, and only then; the
   * places standbys hold count as room ({@link #standbysInTheWayOf}).
   */
  private void admitWhileRoom() {
    boolean room = !draining && streamsServing() + opening.stream().filter(open -> !open.standby()).count() < capacity;
    if (room && opener == null) {
      opener = Bus.serve(vertx.eventBus(), Addresses.STT_OPEN, SttOpen.class, this::open);
    } else if (!room && opener != null) {
      opener.unregister();
      opener = null;
    }
  }

  private void closeIdle(long idleTimeoutMs) {
    long now = System.currentTimeMillis();
    sessions.entrySet().removeIf(e -> {
      if (e.getValue().idleMs(now) > idleTimeoutMs || e.getValue().unclaimed(now, UNCLAIMED_MS)) {
        e.getValue().close("no audio for " + e.getValue().idleMs(now) + " ms");
        return true;
      }
      return false;
    });
    admitWhileRoom();
  }

  /** A gateway node left: its connections are gone, and so is any need for their streams. */
  private void gatewayLeft(NodeLeft left) {
    if (!left.had(Role.GATEWAY) || left.node() == null) {
      return;
    }
    sessions.values().removeIf(session -> {
      if (left.node().equals(session.gatewayNode())) {
        session.close(null);
        return true;
      }
      return false;
    });
    admitWhileRoom();
  }

  @Override
  public Future<Void> drain(long deadlineMillis) {
    Promise<Void> drained = Promise.promise();
    context.runOnContext(v -> drainHere(deadlineMillis).onComplete(drained));
    return drained.future();
  }

  /**
   * Leaves the {@code stt.open} round-robin (an open still on its way is refused, and the gateway
   * tries another node), then announces that this node's streams should move: gateways replay the
   * audio since each stream's last final transcript to another node, exactly as after a crash. Then
   * the streams here close; late events of theirs are dropped by the gateways.
   */
  private Future<Void> drainHere(long deadlineMillis) {
    if (draining) {
      return Future.succeededFuture();
    }
    draining = true;
    MessageConsumer<Object> door = opener;
    opener = null;
    Future<Void> closed = door == null ? Future.succeededFuture() : door.unregister();
    return closed.transform(v -> {
      if (!sessions.isEmpty()) {
        vertx.eventBus().publish(Addresses.NODE_DRAINING, Json.encode(new NodeLeft(node, List.of(Role.STT.id()))));
      }
      List<Future<Void>> closing = List.copyOf(sessions.values()).stream()
          .map(session -> session.close("node " + node + " stopping")).toList();
      sessions.clear();
      Promise<Void> done = Promise.promise();
      long timer = vertx.setTimer(Math.max(1, deadlineMillis - System.currentTimeMillis()), t -> done.tryComplete());
      Future.join(closing).onComplete(all -> {
        vertx.cancelTimer(timer);
        done.tryComplete();
      });
      return done.future();
    });
  }

  @Override
  public Future<?> stop() {
    // Take no more sessions; the gateways move the ones here to other nodes when told stream.closed.
    capacity = 0;
    admitWhileRoom();
    List<Future<Void>> closing = List.copyOf(sessions.values()).stream()
        .map(session -> session.close("node stopping")).toList();
    sessions.clear();
    return Future.all(closing).eventually(() -> worker.executeBlocking(() -> {
      if (engine != null) {
        engine.close();
      }
      if (fallback != null) {
        fallback.close();
      }
      return null;
    })).eventually(() -> worker.close());
  }
}
