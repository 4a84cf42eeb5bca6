package io.voicemesh.gateway;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.json.JsonObject;
import io.voicemesh.api.Addresses;
import io.voicemesh.api.Bus;
import io.voicemesh.api.ErrorCode;
import io.voicemesh.api.Json;
import io.voicemesh.api.MeshException;
import io.voicemesh.api.audio.Pcm16;
import io.voicemesh.api.audio.Resampler;
import io.voicemesh.api.event.ConversationEvent;
import io.voicemesh.api.message.AudioChunkHeader;
import io.voicemesh.api.message.ChatMessage;
import io.voicemesh.api.message.GenerateRequest;
import io.voicemesh.api.message.LlmEvent;
import io.voicemesh.api.message.NodeLeft;
import io.voicemesh.api.message.SessionInfo;
import io.voicemesh.api.message.SessionOpen;
import io.voicemesh.api.message.SttEvent;
import io.voicemesh.api.message.SttOpen;
import io.voicemesh.api.message.ToolCall;
import io.voicemesh.api.message.ToolSpec;
import io.voicemesh.api.message.WriterRelease;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.IntSupplier;

/**
 * One speaker connection: the place where a voice turn's stages meet. It knows no wire protocol:
 * its {@link WireProtocol} turns the client's messages into commands ({@link ConversationControl})
 * and renders the {@link ConversationEvent}s it makes.
 *
 * <pre>
 * client audio ─▶ checks (size, alignment, rate) ─▶ STT stream (opened on first audio)
 * STT events   ─▶ speech_started (barge-in) · transcript.partial · transcript.final ─▶ new {@link Turn}
 * Turn         ─▶ user_message · agent_* events · paced agent audio ─▶ client
 * </pre>
 * Messages are reassembled by a size-capped {@link MessageAssembler}. Bad input is answered with an
 * {@code error} event and otherwise ignored: it never closes the
 * connection, and never touches another session or stored data.
 */
final class Conversation implements ConversationControl {
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Conversation.class);
  private static final long RATE_ERROR_INTERVAL_MS = 1_000;

  private final Runnable onClosed;
  /** This connection's place in the node's quotas; learns the session's id once it is open. */
  private final NodeConnections.Slot slot;
  private final Vertx vertx;
  private final EventBus bus;
  private final ServerWebSocket socket;
  private final GatewaySettings settings;
  private final ClientChannel client;
  private final SessionDirectory sessions;
  /** How many STT nodes this gateway knows: a hot standby needs a second one. */
  private final IntSupplier sttNodes;
  private final String connectionId = UUID.randomUUID().toString();
  private final WireProtocol protocol;
  private final SocketGuard guard;
  private final RateLimiter textLimit;
  private RateLimiter audioLimit;
  private List<MessageConsumer<Object>> inboxes = List.of();
  private SessionFeed feed;
  private SttLink stt;
  private Participants.Lease participant;
  private Future<Void> writerReleased;
  private SessionInfo session;
  private ConversationHistory history;
  private String userId;
  private String voice;
  private int inputRateHz;
  /** Resamples the client's audio to the STT's 16 kHz; null when it is at 16 kHz already. */
  private Resampler toSttRate;
  private TurnSilence turnSilence;
  private int minSpeechMs;
  private long lastRateErrorAt;
  private boolean paused;
  private boolean closed;
  /** What speech during an answer does to it; replaced by a session.update that changes its settings. */
  private BargeIn bargeIn;
  private long noWordsTimer = -1;
  /** When the client's last audio frame arrived (nanoTime), and whether an utterance awaits its end. */
  private long lastAudioNanos = System.nanoTime();
  private boolean utteranceOpen;
  private long audioGapTimer = -1;
  private Turn turn;
  /** Whether a finished utterance is answered at once; else user messages wait for {@link #respond}. */
  private boolean autoRespond = true;
  private final List<String> unanswered = new ArrayList<>();
  private List<ToolSpec> clientTools = List.of();
  /** Whether answers are spoken; a text-only client gets text alone. */
  private boolean voiced = true;
  /** Outputs of the last turn's client tool calls, by callId, for the next respond. */
  private final Map<String, String> toolOutputs = new LinkedHashMap<>();
  private String lastUserText;
  /** The utterance in progress was cleared: its transcript does not become a user message. */
  private boolean discardUtterance;
  /** Audio arrived since the last final transcript: a commit will bring one. */
  private boolean audioSinceFinal;
  /** A commit's final transcript is awaited; a respond meanwhile waits for it (timer id, or -1). */
  private long commitTimer = -1;
  private boolean respondOnFinal;
  private Future<Void> previousTurn = Future.succeededFuture();
  /**
   * Turns not yet finished, by id: an interrupted turn still waits for its LLM stream to end and
   * for the outcome of a tool it started, after the next turn has become {@link #turn}.
   */
  private final Map<String, Turn> unfinishedTurns = new HashMap<>();
  /** Completes once the connection is gone and what it made is stored (or given up on). */
  private final Promise<Void> released = Promise.promise();
  /** Set once the gateway is stopping: no new turn starts, and the client is sent away. */
  private Future<Void> departure;

  Conversation(Vertx vertx, ServerWebSocket socket, GatewaySettings settings, SessionDirectory sessions,
      Runnable onClosed, NodeConnections.Slot slot, WireProtocol.Factory protocols, IntSupplier sttNodes) {
    this.onClosed = onClosed;
    this.sttNodes = sttNodes;
    this.slot = slot;
    this.vertx = vertx;
    this.bus = vertx.eventBus();
    this.socket = socket;
    this.settings = settings;
    this.sessions = sessions;
    this.client = new ClientChannel(vertx, socket, connectionId, settings, this::writerLost);
    this.guard = new SocketGuard(vertx, socket, client, settings);
    this.bargeIn = new BargeIn(settings.backchannels(), settings.falseInterruptionMs());
    this.protocol = protocols.create(this, client);
    if (protocol.renderer() != null) {
      client.render(protocol.renderer());
    }
    this.textLimit = new RateLimiter(settings.textMessagesPerSecond(), settings.textMessagesPerSecond());
  }

  /**
   * Opens (or resumes) the session as its writer — a connection still writing it is asked to let go
   * first — sends the events the client missed, then starts reading the client's frames.
   */
  Future<Void> start(VoiceRequest request) {
    this.userId = request.caller().user();
    String resumeSessionId = request.sessionId();
    socket.pause();
    socket.closeHandler(v -> close());
    socket.frameHandler(guard.watching(MessageAssembler.forClient(settings, client, guard, protocol::text, protocol::binary)));
    socket.exceptionHandler(e -> {
      LOG.info("session {}: connection failed: {}", session == null ? "(opening)" : session.sessionId(), e.toString());
      close();
    });
    Future<Void> previousWriterGone = resumeSessionId == null ? Future.succeededFuture()
        : sessions.releaseWriter(resumeSessionId, "taken_over");
    return previousWriterGone
        .compose(v -> Bus.request(bus, Addresses.SESSION_OPEN, new SessionOpen(resumeSessionId, userId,
            resumeSessionId == null ? request.agent() : null, null, connectionId), SessionInfo.class,
            settings.sessionTimeoutMs()))
        .compose(info -> {
          if (closed) {
            return Future.failedFuture(new MeshException(ErrorCode.BAD_REQUEST, "the client left"));
          }
          session = info;
          history = new ConversationHistory(vertx, settings, info.sessionId());
          slot.session(info.sessionId());
          stt = new SttLink(vertx, settings, info.sessionId(), Addresses.conversationStt(connectionId), this::onSttEvent,
              this::sttUnavailable, request.caller(), sttNodes);
          long clientHas = request.lastSeq() == null ? info.lastSeq() : Math.min(request.lastSeq(), info.lastSeq());
          client.session(info.sessionId(), info.lastSeq(), clientHas, true);
          feed = new SessionFeed(vertx, client, info.sessionId(), settings.sessionTimeoutMs(),
              SessionEventLog.appendBudgetMs(settings), this::sessionEnded);
          inboxes = List.of(
              bus.consumer(Addresses.conversationStt(connectionId), m -> stt.received(Json.decode(m.body(), SttEvent.class),
                  m.headers().get(SttOpen.STREAM_HEADER))),
              bus.localConsumer(Addresses.NODE_LEFT, m -> nodeLeft(Json.decode(m.body(), NodeLeft.class))),
              bus.localConsumer(Addresses.NODE_UNREACHABLE, m -> nodeUnreachable(Json.decode(m.body(), NodeLeft.class))),
              bus.consumer(Addresses.conversationLlm(connectionId), m -> onLlmEvent(Json.decode(m.body(), LlmEvent.class),
                  m.headers().get(GenerateRequest.ATTEMPT_HEADER))),
              bus.consumer(Addresses.conversationTts(connectionId), m -> onAudioChunk(
                  AudioChunkHeader.from(m.headers()), (Buffer) m.body())),
              bus.consumer(Addresses.sessionWriter(info.sessionId()), this::onWriterRelease));
          return Future.all(inboxes.stream().map(MessageConsumer::completion).toList()).compose(all -> feed.start());
        })
        .onSuccess(replayed -> {
          if (closed) {
            releaseResources();
            return;
          }
          if (departure != null) {
            return; // sent away while starting: the close that follows releases what was registered
          }
          participant = Participants.join(vertx, session.sessionId(), connectionId, "speaker", settings.node());
          applyAudioFormat(request.sampleRate(), TurnSilence.defaults(settings), settings.defaultMinSpeechMs());
          client.ready("speaker", session.resumed(), replayed, session.agent(), settings.node(), turnSilence.describe(
              new JsonObject().put("inputSampleRate", inputRateHz).put("minSpeechMs", minSpeechMs)));
          socket.resume();
        })
        .<Void>mapEmpty()
        .onFailure(e -> {
          if (closed) {
            releaseResources();
          } else {
            client.refuse(e);
          }
        });
  }

  /** Completes once the connection has closed and the events it made are stored (or given up on). */
  Future<Void> released() {
    return released.future();
  }

  /**
   * This gateway is stopping: no new turn starts; the turn in flight may play out until
   * {@code turnDeadlineMillis}, then it is interrupted. Once its events are stored (by
   * {@code deadlineMillis} at the latest) the client gets {@code going_away} with where to resume,
   * and close 1001. Completes when that is sent, or when the connection closed by itself and stored
   * what it made.
   */
  Future<Void> goAway(long turnDeadlineMillis, long deadlineMillis) {
    if (departure != null) {
      return departure;
    }
    if (closed || writerReleased != null) {
      // Leaving anyway (the client went, or another connection takes over): that path stores the events.
      departure = released.future();
      return departure;
    }
    if (session == null) {
      // Still opening its session: nothing of it is stored yet, nothing to resume.
      departure = Future.succeededFuture();
      client.goAway("this gateway is shutting down; connect again to continue");
      return departure;
    }
    long now = System.currentTimeMillis();
    long cutTimer = vertx.setTimer(Math.max(1, turnDeadlineMillis - now), t -> interruptTurn());
    Promise<Void> stored = Promise.promise();
    long giveUpTimer = vertx.setTimer(Math.max(1, deadlineMillis - now), t -> {
      interruptTurn();
      stored.tryComplete();
    });
    previousTurn.onComplete(turnOver -> {
      vertx.cancelTimer(cutTimer);
      client.stopWriting().onComplete(done -> stored.tryComplete());
    });
    departure = stored.future().andThen(v -> {
      vertx.cancelTimer(giveUpTimer);
      client.goAway("this gateway is shutting down; reconnect with sessionId and lastSeq to resume the session");
    });
    return departure;
  }

  /** Another connection takes the session over, or it is being ended: let go, then answer. */
  private void onWriterRelease(Message<Object> request) {
    boolean ending = "session_ended".equals(Json.decode(request.body(), WriterRelease.class).reason());
    handOver(ending ? ErrorCode.SESSION_ENDED : ErrorCode.TAKEN_OVER,
        ending ? "the session was ended" : "another connection resumed this session")
        .onComplete(done -> request.reply(null));
  }

  /** The channel can no longer write this session (see {@link ClientChannel}): tell the client and close. */
  private void writerLost(ErrorCode why) {
    if (why == ErrorCode.TAKEN_OVER) {
      handOver(why, "another connection took this session over");
    } else if (why == ErrorCode.SLOW_CONSUMER) {
      guard.slowConsumer();
    } else {
      // The event log stayed away longer than the gateway may hold events: the session ends here
      // for this client (1013: try again later); it can resume once the store is back.
      client.replyError(why, "the session's events could not be stored for " + settings.outageBufferMs()
          + " ms; the session store is unavailable. Reconnect later with lastSeq to resume");
      socket.close((short) 1013, why.wire());
    }
  }

  /**
   * Lets go of the session's writer role: the turn stops, and once its events are stored (waiting at
   * most {@code takeoverMs}) the client is told why; a taken-over connection then closes, an ended
   * session's connections close when {@code session.ended} arrives.
   */
  private Future<Void> handOver(ErrorCode why, String message) {
    if (writerReleased != null) {
      return writerReleased;
    }
    interruptTurn();
    Promise<Void> settled = Promise.promise();
    long timer = vertx.setTimer(settings.takeoverMs(), t -> settled.tryComplete());
    previousTurn.onComplete(v -> settled.tryComplete());
    writerReleased = settled.future()
        .andThen(v -> vertx.cancelTimer(timer))
        .compose(v -> client.stopWriting())
        .andThen(v -> {
          if (why == ErrorCode.TAKEN_OVER) {
            client.replyError(why, message);
            socket.close((short) 4409, why.wire());
          } else {
            // session.ended should follow; if ending the session failed, this connection still goes.
            vertx.setTimer(2 * settings.sessionTimeoutMs(), t -> {
              if (!closed) {
                client.replyError(ErrorCode.INTERNAL, "the session was being ended; reconnect to continue");
                socket.close((short) 1011, ErrorCode.INTERNAL.wire());
              }
            });
          }
        });
    return writerReleased;
  }

  private void sessionEnded() {
    client.stopWriting();
    interruptTurn();
    socket.close((short) 1000, ErrorCode.SESSION_ENDED.wire());
  }

  @Override
  public Future<JsonObject> status() {
    return sessions.status(session.sessionId())
        .map(status -> status
            .put("role", "speaker")
            .put("connectionId", connectionId)
            // The writer knows its newest event before the log has stored it.
            .put("lastSeq", client.delivered())
            .put("paused", paused)
            .put("muted", client.muted())
            .put("turnActive", turn != null && turn.active()));
  }

  // ---- client commands -----------------------------------------------------------------------

  @Override
  public boolean textAllowed() {
    if (textLimit.tryAcquire(1)) {
      return true;
    }
    rateLimited("more than " + settings.textMessagesPerSecond() + " text messages per second");
    return false;
  }

  @Override
  public void audio(Buffer frame) {
    if (frame.length() == 0 || paused) {
      return;
    }
    if (!audioLimit.tryAcquire(frame.length())) {
      rateLimited("audio arrives faster than " + settings.audioRealtimeFactor() + "x real time");
      return;
    }
    stt.audio(toSttRate == null ? frame : Buffer.buffer(toSttRate.process(frame.getBytes())));
    audioSinceFinal = true;
    lastAudioNanos = System.nanoTime();
  }

  private void rateLimited(String why) {
    long now = System.currentTimeMillis();
    if (now - lastRateErrorAt >= RATE_ERROR_INTERVAL_MS) {
      lastRateErrorAt = now;
      client.replyError(ErrorCode.RATE_LIMITED, why + "; excess is dropped");
    }
  }

  @Override
  public JsonObject update(JsonObject m) {
    // Every field is checked before any is applied: a refused update changes nothing.
    int rate = Fields.integer(m, "inputSampleRate", inputRateHz, 8_000, 48_000);
    TurnSilence silence = turnSilence.update(m);
    int minSpeech = Fields.integer(m, "minSpeechMs", minSpeechMs, 60, 2_000);
    List<String> backchannels = Fields.texts(m, "backchannels", bargeIn.backchannels(), 64, 40);
    int falseInterruption = Fields.integer(m, "falseInterruptionMs", (int) bargeIn.falseInterruptionMs(), 0,
        (int) GatewaySettings.MAX_FALSE_INTERRUPTION_MS);
    voice = Fields.text(m, "voice", voice, 64);
    applyAudioFormat(rate, silence, minSpeech);
    if (m.containsKey("backchannels") || m.containsKey("falseInterruptionMs")) {
      resumeAnswer();
      bargeIn = new BargeIn(backchannels, falseInterruption);
    }
    return turnSilence.describe(new JsonObject().put("inputSampleRate", inputRateHz)
        .put("minSpeechMs", minSpeechMs).put("voice", voice).put("backchannels", bargeIn.backchannels())
        .put("falseInterruptionMs", bargeIn.falseInterruptionMs()));
  }

  @Override
  public void playbackMark(String turnId, long ms) {
    if (turn != null && (turnId == null || turnId.equals(turn.id))) {
      turn.playbackMark(ms);
    }
  }

  @Override
  public void truncate(String turnId, long audioEndMs) {
    if (turn == null || !turn.id.equals(turnId) || !turn.truncate(audioEndMs)) {
      throw new MeshException(ErrorCode.BAD_REQUEST, "only the answer still being played can be truncated");
    }
  }

  @Override
  public void control(String action) {
    switch (action) {
      case "pause" -> paused = true;
      case "resume" -> paused = false;
      case "mute" -> client.muted(true);
      case "unmute" -> client.muted(false);
      default -> throw new MeshException(ErrorCode.BAD_REQUEST, "control action must be pause, resume, mute or unmute");
    }
  }

  @Override
  public void commit() {
    stt.commit();
    if (audioSinceFinal) {
      // The final transcript follows once the recognizer has the audio before the commit; a respond
      // that comes before it waits for it, at most as long as a turn's longest silence.
      cancelCommitTimer();
      commitTimer = vertx.setTimer(AUDIO_GAP_SLACK_MS + turnSilence.maxSilenceMs(), t -> {
        commitTimer = -1;
        if (respondOnFinal && !closed) {
          respondOnFinal = false;
          respondNow();
        }
      });
    }
  }

  private void cancelCommitTimer() {
    if (commitTimer >= 0) {
      vertx.cancelTimer(commitTimer);
      commitTimer = -1;
    }
  }

  @Override
  public void clearInput() {
    if (audioSinceFinal) {
      discardUtterance = true;
      stt.commit();
    }
  }

  @Override
  public void autoRespond(boolean auto) {
    autoRespond = auto;
  }

  @Override
  public void userText(String text) {
    if (autoRespond) {
      startTurn(text, TurnClock.now());
    } else {
      unanswered.add(text);
    }
  }

  @Override
  public void respond() {
    if (commitTimer >= 0) {
      respondOnFinal = true;
      return;
    }
    respondNow();
  }

  @Override
  public void voiced(boolean spoken) {
    voiced = spoken;
  }

  @Override
  public Future<Void> deleteMessage(String turnId, ChatMessage.Role role) {
    return history.delete(turnId, role);
  }

  @Override
  public void clientTools(List<ToolSpec> tools) {
    clientTools = List.copyOf(tools);
  }

  @Override
  public void toolOutput(String callId, String output) {
    boolean called = turn != null && turn.clientCalls().stream().anyMatch(call -> call.callId().equals(callId));
    if (!called) {
      throw new MeshException(ErrorCode.BAD_REQUEST, "no call " + callId + " of the last answer waits for its output");
    }
    toolOutputs.put(callId, output);
  }

  private void respondNow() {
    if (!toolOutputs.isEmpty()) {
      // The model's calls and the client's outputs go after the history; new user words, if any, after them.
      List<ToolCall> answered = turn.clientCalls().stream().filter(call -> toolOutputs.containsKey(call.callId())).toList();
      List<ChatMessage> exchange = new ArrayList<>(List.of(ChatMessage.toolCalls(answered)));
      answered.forEach(call -> exchange.add(ChatMessage.toolOutput(call.callId(), toolOutputs.get(call.callId()))));
      toolOutputs.clear();
      String text = String.join(" ", unanswered);
      unanswered.clear();
      startTurn(text, TurnClock.now(), new Turn.TurnInput(clientTools, exchange, voiced));
      return;
    }
    String text = unanswered.isEmpty() ? lastUserText : String.join(" ", unanswered);
    unanswered.clear();
    if (text == null) {
      // Also after a commit that brought no words: an error reply, not a thrown one (this may run on a timer).
      client.replyError(ErrorCode.BAD_REQUEST, "there is nothing to respond to yet: no user message");
      return;
    }
    startTurn(text, TurnClock.now());
  }

  @Override
  public void cancelResponse() {
    interruptTurn();
  }

  @Override
  public void dtmf(String digit) {
    client.emit(new ConversationEvent.Dtmf(digit));
  }

  @Override
  public void endSession() {
    sessions.end(session.sessionId()).onFailure(client::replyError);
  }

  // ---- speech to text ------------------------------------------------------------------------

  /**
   * The recognizers' models are trained at 16 kHz, and Vosk given another rate hears nothing (8 kHz
   * phone audio came back as empty transcripts): audio at any other rate is resampled to 16 kHz here,
   * and the STT stream is always 16 kHz.
   */
  private void applyAudioFormat(int rateHz, TurnSilence silence, int minSpeech) {
    if (rateHz != inputRateHz) {
      toSttRate = rateHz == Pcm16.DEFAULT_RATE_HZ ? null : new Resampler(rateHz, Pcm16.DEFAULT_RATE_HZ);
    }
    inputRateHz = rateHz;
    turnSilence = silence;
    minSpeechMs = minSpeech;
    stt.format(Pcm16.DEFAULT_RATE_HZ, silence.minSilenceMs(), silence.maxSilenceMs(), minSpeech);
    int bytesPerSecond = Pcm16.bytesFor(rateHz, 1000);
    audioLimit = new RateLimiter(bytesPerSecond * settings.audioRealtimeFactor(), bytesPerSecond * 2.0);
  }

  private void onSttEvent(SttEvent event) {
    if (closed) {
      return;
    }
    if (event instanceof SttEvent.SpeechStarted started) {
      client.emit(new ConversationEvent.SpeechStarted(started.audioMs()));
      utteranceOpen = true;
      watchAudioGap(AUDIO_GAP_SLACK_MS + turnSilence.maxSilenceMs());
      if (answering()) {
        bargeIn(bargeIn.speechStarted());
      }
    } else if (event instanceof SttEvent.SpeechStopped stopped) {
      client.emit(new ConversationEvent.SpeechStopped(stopped.audioMs()));
    } else if (event instanceof SttEvent.TranscriptPartial partial) {
      client.emit(new ConversationEvent.TranscriptPartial(partial.text(), partial.audioMs()));
      if (answering()) {
        bargeIn(bargeIn.partial(partial.text()));
      }
    } else if (event instanceof SttEvent.TranscriptFinal fin) {
      client.emit(new ConversationEvent.TranscriptFinal(fin.text(), fin.audioMs()));
      utteranceOpen = false;
      audioSinceFinal = false;
      boolean respondNow = respondOnFinal;
      respondOnFinal = false;
      cancelCommitTimer();
      if (discardUtterance) {
        discardUtterance = false;
        return;
      }
      if (respondNow) {
        // A respond waited for this commit's transcript, which may be empty (the commit came in silence).
        if (!fin.text().isBlank()) {
          unanswered.add(fin.text());
        }
        respondNow();
        return;
      }
      if (answering() && bargeIn.falseInterruptionMs() > 0) {
        BargeIn.Utterance said = bargeIn.finished(fin.text());
        if (said == BargeIn.Utterance.BACKCHANNEL) {
          client.emit(new ConversationEvent.UserBackchannel(turn.id, fin.text()));
        }
        if (said != BargeIn.Utterance.TURN) {
          resumeAnswer();
          return;
        }
      }
      if (fin.text().isBlank()) {
        return;
      }
      if (autoRespond) {
        startTurn(fin.text(), new TurnClock(stt.arrivalOf(fin.speechEndMs()), stt.arrivalOf(fin.audioMs()),
            System.nanoTime()));
      } else {
        unanswered.add(fin.text());
      }
    } else if (event instanceof SttEvent.Warning warning) {
      client.warning("stt", ENGINE_FALLBACK, warning.message());
    }
  }

  /** The `code` of a `warning`: a stage's remote engine is unavailable and its embedded one serves the session. */
  static final String ENGINE_FALLBACK = "engine_fallback";

  private void sttUnavailable(MeshException error) {
    if (!closed) {
      client.error(error.code(), "speech recognition unavailable: " + error.getMessage());
    }
  }

  /** A cluster member went away; whatever of this conversation ran there moves to another node. */
  private void nodeLeft(NodeLeft left) {
    if (closed) {
      return;
    }
    stt.nodeLeft(left);
    // Also an interrupted turn that has not finished: it may wait for tool outcomes from that node.
    List.copyOf(unfinishedTurns.values()).forEach(unfinished -> unfinished.nodeLeft(left));
  }

  /**
   * A member died and the membership view does not know yet: the STT stream moves now (its replay
   * makes that safe); LLM and TTS retries wait for {@link #nodeLeft}, since until then the event
   * bus may still route a retry to the dead node.
   */
  private void nodeUnreachable(NodeLeft dead) {
    if (!closed) {
      stt.nodeLeft(dead);
    }
  }

  // ---- agent turns ---------------------------------------------------------------------------

  /** A new turn starts once the previous one has stored what the user heard of it. */
  private void startTurn(String userText, TurnClock clock) {
    startTurn(userText, clock, new Turn.TurnInput(clientTools, List.of(), voiced));
  }

  private void startTurn(String userText, TurnClock clock, Turn.TurnInput input) {
    if (departure != null) {
      // The gateway is stopping: the transcript is in the log; the client resumes elsewhere to go on.
      return;
    }
    interruptTurn();
    if (!userText.isBlank()) {
      lastUserText = userText;
    }
    Turn next = new Turn(vertx, client, settings, session.sessionId(), connectionId, session.agent(), voice, userText,
        clock, stt.node(), history, input);
    turn = next;
    unfinishedTurns.put(next.id, next);
    next.finished().onComplete(done -> unfinishedTurns.remove(next.id));
    previousTurn = previousTurn.transform(ignored -> {
      // Also once the client has gone (close interrupted it): a turn interrupted before it began
      // begins and ends at once, so every turn's events follow the turn before it.
      next.start();
      return next.finished();
    });
  }

  private void interruptTurn() {
    cancelNoWordsTimer();
    bargeIn.reset();
    if (turn != null) {
      turn.interrupt();
    }
  }

  /** Whether the agent may still speak in the current turn: speech now may be meant to interrupt it. */
  private boolean answering() {
    return turn != null && turn.active();
  }

  /** Does what {@link BargeIn} decided to the answer being played. */
  private void bargeIn(BargeIn.Action action) {
    switch (action) {
      case PAUSE -> {
        turn.pausePlayback();
        cancelNoWordsTimer();
        noWordsTimer = vertx.setTimer(bargeIn.falseInterruptionMs(), t -> {
          noWordsTimer = -1;
          if (!closed && answering()) {
            bargeIn(bargeIn.noWordsDeadline());
          }
        });
      }
      case RESUME -> resumeAnswer();
      case INTERRUPT -> interruptTurn();
      case NONE -> { }
    }
  }

  /** Speech that paused the answer did not interrupt it after all: it goes on where it stopped. */
  private void resumeAnswer() {
    cancelNoWordsTimer();
    if (turn != null) {
      turn.resumePlayback();
    }
  }

  /**
   * The recognizer ends a turn on the silence in the audio; a client that simply stops sending (a
   * program, push-to-talk) sends none. So once no audio has arrived for the longest silence that
   * may end a turn (plus {@link #AUDIO_GAP_SLACK_MS} for the network and the recognizer's backlog)
   * while an utterance awaits its end, the turn is committed as {@code input.commit} would.
   * Streaming clients send a frame every 20 ms and never get here.
   */
  private void watchAudioGap(long delayMs) {
    if (audioGapTimer >= 0) {
      vertx.cancelTimer(audioGapTimer);
    }
    audioGapTimer = vertx.setTimer(Math.max(1, delayMs), t -> {
      audioGapTimer = -1;
      if (closed || !utteranceOpen) {
        return;
      }
      long quietMs = (System.nanoTime() - lastAudioNanos) / 1_000_000;
      long allowedMs = AUDIO_GAP_SLACK_MS + turnSilence.maxSilenceMs();
      if (quietMs >= allowedMs) {
        utteranceOpen = false;
        stt.commit();
      } else {
        watchAudioGap(allowedMs - quietMs);
      }
    });
  }

  /** Beyond the longest silence that may end a turn: how long no audio at all waits before the turn is committed. */
  static final long AUDIO_GAP_SLACK_MS = 500;

  private void cancelNoWordsTimer() {
    if (noWordsTimer >= 0) {
      vertx.cancelTimer(noWordsTimer);
      noWordsTimer = -1;
    }
  }

  private void onLlmEvent(LlmEvent event, String attempt) {
    Turn addressed = unfinishedTurns.get(event.turnId());
    if (addressed != null) {
      addressed.onLlmEvent(event, attempt == null ? 1 : Integer.parseInt(attempt));
    }
  }

  private void onAudioChunk(AudioChunkHeader header, Buffer pcm) {
    if (turn != null && turn.id.equals(header.turnId())) {
      turn.onAudioChunk(header, pcm);
    }
  }

  /** The client went away: stop the agent, release the STT stream; the session stays resumable. */
  private void close() {
    if (closed) {
      return;
    }
    closed = true;
    LOG.debug("session {}: connection closed (client's close frame: {} {})", session == null ? "(opening)" : session.sessionId(),
        socket.closeStatusCode(), socket.closeReason());
    guard.stop();
    onClosed.run();
    interruptTurn();
    if (stt != null) {
      stt.close();
    }
    if (participant != null) {
      participant.leave();
    }
    // The turn's last events (agent_completed) are still written to the log and published for
    // listeners; then the writer role's address goes, and a resuming client replays from the log.
    previousTurn.onComplete(v -> client.stopWriting().onComplete(stored -> releaseResources()));
  }

  /** Unregisters what the connection registered (also what a start still in flight registers after a close). */
  private void releaseResources() {
    inboxes.forEach(MessageConsumer::unregister);
    if (feed != null) {
      feed.close();
    }
    if (participant != null) {
      participant.leave();
    }
    released.tryComplete();
  }
}
