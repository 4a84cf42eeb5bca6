package io.voicemesh.gateway;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.voicemesh.api.Addresses;
import io.voicemesh.api.Bus;
import io.voicemesh.api.ErrorCode;
import io.voicemesh.api.Json;
import io.voicemesh.api.MeshException;
import io.voicemesh.api.Role;
import io.voicemesh.api.audio.Pcm16;
import io.voicemesh.api.event.ConversationEvent;
import io.voicemesh.api.message.AudioChunkHeader;
import io.voicemesh.api.message.ChatMessage;
import io.voicemesh.api.message.GenerateRequest;
import io.voicemesh.api.message.LlmEvent;
import io.voicemesh.api.message.MessageAppend;
import io.voicemesh.api.message.NodeLeft;
import io.voicemesh.api.message.SynthesizeDone;
import io.voicemesh.api.message.SynthesizeRequest;
import io.voicemesh.api.message.ToolCall;
import io.voicemesh.api.message.ToolSpec;
import io.voicemesh.api.message.TurnCancel;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * One agent turn, from the user's final transcript to the last audio chunk. The conductor: the
 * stages are done by
 * <ol>
 *   <li>{@link ConversationHistory}: store the user message, read the recent context
 *       ({@code session.*}; while the store is away, what this gateway knows);</li>
 *   <li>{@link LlmStream}: {@code llm.generate}, with its watchdog and one retry on a lost node;
 *       deltas become {@code agent_response.delta} events and, cut by the {@link SentenceChunker},
 *       sentences; tool calls become {@code tool_executing} / {@code tool_completed} pairs
 *       ({@link ToolEvents});</li>
 *   <li>{@link SentenceSynthesis}: one {@code tts.synthesize} per sentence, retried once on a lost node;</li>
 *   <li>{@link AudioPlayout}: the audio chunks play in order, paced;</li>
 *   <li>{@link HeardText}: what the user heard is stored as the assistant message, then
 *       {@code agent_completed} with the {@link TurnTimings}.</li>
 * </ol>
 * An interruption cancels the LLM and TTS work, stops the audio at once, and stores only what the
 * user heard. The client's events go through {@link TurnEvents}, which keeps them in the order the
 * protocol promises whichever stage reports first.
 */
final class Turn implements LlmStream.Listener, SentenceSynthesis.Listener {
  final String id = UUID.randomUUID().toString();
  /** How long an interrupted turn waits for the LLM worker to confirm the cancel. */
  private static final long LLM_SETTLE_MS = 2_000;
  private final Vertx vertx;
  private final EventBus bus;
  private final ClientChannel client;
  private final GatewaySettings settings;
  private final String sessionId;
  private final String connectionId;
  private final String agent;
  private final String voice;
  private final String userText;
  private final String sttNode;
  private final ConversationHistory conversationHistory;
  private final TurnTimings timings;
  private final LlmStream llm;
  private final ToolEvents tools;
  private final SentenceChunker chunker = new SentenceChunker();
  private final SentenceSynthesis synthesis;
  private final AudioPlayout playout;
  private final HeardText heard = new HeardText();
  private final List<ToolSpec> clientTools;
  private final List<ChatMessage> exchange;
  private final List<ToolCall> clientCalls = new ArrayList<>();
  private final boolean voiced;
  /** The answer's text sent so far, when it is not spoken: what the user has of it if interrupted. */
  private final StringBuilder shownText = new StringBuilder();

  /**
   * What the client asks of this turn beside the user's words: the tools it runs itself, the
   * outputs of its last calls this turn answers (or none), and whether the answer is spoken
   * ({@code voiced}; a text-only client gets the text alone, with nothing synthesized).
   */
  record TurnInput(List<ToolSpec> clientTools, List<ChatMessage> exchange, boolean voiced) {
  }
  private final TurnEvents events;
  private final Promise<Void> finished = Promise.promise();
  private List<ChatMessage> history;
  private boolean audioStarted;
  /** Set by {@link #start}: a turn waits for the one before it to end before it begins. */
  private boolean begun;
  /** Interrupted while waiting to begin: it begins and ends at once, so its events follow the turn before. */
  private boolean interruptedEarly;
  private boolean llmDone;
  private boolean completing;
  private String answer = "";
  private MeshException failure;

  /**
   * {@code userText} may be empty when the turn answers the client's outputs of tools it runs
   * ({@code exchange}: the model's calls and the outputs, sent after the history); {@code clientTools}
   * are the tools the client runs, offered to the model.
   */
  Turn(Vertx vertx, ClientChannel client, GatewaySettings settings, String sessionId, String connectionId,
      String agent, String voice, String userText, TurnClock clock, String sttNode, ConversationHistory conversationHistory,
      TurnInput input) {
    this.clientTools = input.clientTools();
    this.exchange = input.exchange();
    this.voiced = input.voiced();
    this.vertx = vertx;
    this.bus = vertx.eventBus();
    this.client = client;
    this.settings = settings;
    this.sessionId = sessionId;
    this.connectionId = connectionId;
    this.agent = agent;
    this.voice = voice;
    this.userText = userText;
    this.sttNode = sttNode;
    this.conversationHistory = conversationHistory;
    this.timings = new TurnTimings(clock);
    this.events = new TurnEvents(id, userText, client::emit);
    this.llm = new LlmStream(vertx, settings.llmIdleTimeoutMs(), this::askLlm, this);
    this.tools = new ToolEvents(vertx, new ToolEvents.Sink() {
      @Override
      public void executing(ToolCall call) {
        events.toolExecuting(new ConversationEvent.ToolExecuting(id, call.callId(), call.name(), call.arguments()));
      }

      @Override
      public void completed(String callId, ToolCall call, JsonObject result, ErrorCode code, String error) {
        events.toolCompleted(new ConversationEvent.ToolCompleted(id, callId, call.name(), result, code, error));
      }
    });
    this.synthesis = new SentenceSynthesis(this::askTts, this);
    this.playout = new AudioPlayout(vertx, Pcm16.DEFAULT_RATE_HZ, settings.playoutLeadMs(), this::playAudio,
        this::sentencePlayed, this::audioDrained);
  }

  /** Completes once the turn has ended and its assistant message is stored. */
  Future<Void> finished() {
    return finished.future();
  }

  /** True while the agent may still speak in this turn. */
  boolean active() {
    return !completing && !interruptedEarly;
  }

  /** The user may be interrupting: no more audio goes out until {@link #resumePlayback} or {@link #interrupt}. */
  void pausePlayback() {
    playout.pause();
  }

  /** The user was not interrupting after all: the answer goes on where it paused. */
  void resumePlayback() {
    playout.resume();
  }

  // ---- the stages, in order ------------------------------------------------------------------

  /** 1. The user's message is stored; the context is read; the model is asked. */
  void start() {
    begun = true;
    timings.turnEnded();
    events.userMessage();
    // While the store is away the turn goes on with the history this conversation knows.
    boolean storeBehind = conversationHistory.behind() || client.storageBehind();
    Future<Void> userStored = userText.isBlank() ? Future.succeededFuture()
        : conversationHistory.add(new MessageAppend(sessionId, id, ChatMessage.Role.USER, userText));
    if (interruptedEarly) {
      llm.abandon();
      complete(true);
      return;
    }
    conversationHistory.context(storeBehind ? null : userStored)
        .onSuccess(context -> {
          if (completing) {
            llm.abandon();
            return;
          }
          events.started();
          timings.generateSent(System.nanoTime());
          history = context;
          llm.start();
        })
        .onFailure(e -> fail(MeshException.from(e)));
  }

  /** 2. The answer streams in: text to the client and, sentence by sentence, to speech. */
  private Future<String> askLlm(int attempt) {
    List<ChatMessage> messages = new ArrayList<>(history);
    messages.addAll(exchange);
    GenerateRequest request = new GenerateRequest(sessionId, id, agent, messages, Addresses.conversationLlm(connectionId),
        attempt, clientTools);
    return Bus.request(bus, Addresses.LLM_GENERATE, request, JsonObject.class, settings.llmAckTimeoutMs())
        .map(accepted -> accepted.getString("node"));
  }

  void onLlmEvent(LlmEvent event, int attempt) {
    llm.event(event, attempt);
  }

  @Override
  public void llmAccepted() {
    events.thinking();
  }

  @Override
  public void llmToolStarted(ToolCall call, int attempt) {
    if (!finished.future().isComplete()) {
      // Also after an interruption: the worker may have started the call before the cancel reached it.
      tools.started(call, attempt);
    }
  }

  @Override
  public void llmToolFinished(LlmEvent.ToolFinished done) {
    tools.finished(done);
  }

  @Override
  public void llmClientToolCall(ToolCall call) {
    clientCalls.add(call);
    events.functionCall(new ConversationEvent.FunctionCall(id, call.callId(), call.name(), call.arguments().encode()));
  }

  /** The calls of tools the client runs that the model made in this turn, in order. */
  List<ToolCall> clientCalls() {
    return List.copyOf(clientCalls);
  }

  @Override
  public void llmDelta(String fresh) {
    timings.llmDelta(System.nanoTime());
    events.delta(fresh);
    if (voiced) {
      chunker.push(fresh).forEach(this::speak);
    } else {
      shownText.append(fresh);
    }
  }

  @Override
  public void llmDone(String heardAnswer, String text) {
    answer = heardAnswer;
    // The stream has ended: a call still open was shown by an attempt whose node was lost.
    tools.closeAll(ErrorCode.ENGINE_UNAVAILABLE, "its LLM node was lost before it reported");
    events.response(text);
    String rest = chunker.flush();
    if (!rest.isEmpty() && voiced) {
      speak(rest);
    }
    endLlm();
  }

  @Override
  public void llmFailed(MeshException error) {
    fail(error);
  }

  /** 3. Each sentence is synthesized. */
  private void speak(String sentence) {
    heard.sentence(sentence);
    timings.synthesisSent(System.nanoTime());
    synthesis.speak(sentence);
  }

  private Future<SynthesizeDone> askTts(int index, String text) {
    return Bus.request(bus, Addresses.TTS_SYNTHESIZE, new SynthesizeRequest(sessionId, id, index, text, voice,
        Addresses.conversationTts(connectionId)), SynthesizeDone.class, settings.ttsSentenceTimeoutMs());
  }

  @Override
  public void sentenceSynthesized(int index, SynthesizeDone done) {
    heard.timed(index, done.audioMs(), done.wordEndsMs());
    playout.sentenceDone(index, done.chunks());
  }

  @Override
  public void sentenceFailed(int index, MeshException error) {
    if (!completing) {
      client.error(error.code(), "speech synthesis failed for sentence " + index + ": " + error.getMessage());
    }
    playout.sentenceDone(index, 0);
  }

  @Override
  public void synthesisFellBack(String warning) {
    client.warning("tts", Conversation.ENGINE_FALLBACK, warning);
  }

  /** 4. The audio plays, in order. */
  void onAudioChunk(AudioChunkHeader header, Buffer pcm) {
    timings.ttsAudio(System.nanoTime());
    synthesis.chunkFrom(header.sentence(), header.node());
    playout.chunk(header.sentence(), header.chunk(), pcm);
  }

  private void playAudio(Buffer pcm) {
    if (!audioStarted) {
      audioStarted = true;
      timings.audioPlayed(System.nanoTime());
      events.audio(new ConversationEvent.AudioStart(id, Pcm16.DEFAULT_RATE_HZ));
    }
    client.audio(pcm);
  }

  private void sentencePlayed(int sentence) {
    heard.sentencePlayed(playout.sentMs());
  }

  /** The client says it has played {@code ms} of this turn's audio. */
  void playbackMark(long ms) {
    heard.playbackMark(ms);
  }

  /**
   * The client stopped playing this answer after {@code audioEndMs} of its audio (the Realtime
   * protocol's truncate): the answer ends, and what is stored is what was heard by then. False when
   * the turn had already ended: its stored answer stands.
   */
  boolean truncate(long audioEndMs) {
    if (completing) {
      return false;
    }
    heard.playbackMark(audioEndMs);
    interrupt();
    return true;
  }

  private void audioDrained() {
    if (audioStarted) {
      events.audio(new ConversationEvent.AudioEnd(id, playout.sentMs()));
    }
    if (llmDone) {
      complete(false);
    }
  }

  /** 5. The turn ends: what was heard is stored, open tool calls are closed, agent_completed. */
  private void complete(boolean interrupted) {
    if (completing) {
      return;
    }
    completing = true;
    synthesis.stop();
    String heardText = !(interrupted || failure != null) ? answer
        : voiced ? heard.heard(playout.sentMs()) : shownText.toString();
    // Stored in order after the user's message; agent_completed waits for it (bounded): while the
    // store is away it stays queued and the turn ends without it.
    boolean storeBehind = conversationHistory.behind() || client.storageBehind();
    Future<Void> stored = heardText.isBlank() ? Future.succeededFuture()
        : within(conversationHistory.add(new MessageAppend(sessionId, id, ChatMessage.Role.ASSISTANT, heardText)),
            storeBehind ? 0 : settings.sessionTimeoutMs());
    // Wait (bounded) for the worker to end its stream, so a tool call it started just before the
    // cancel is known; then for every open tool call to report.
    Future<Void> toolsDone = within(llm.ended(), LLM_SETTLE_MS).compose(v -> tools.settled(settings.toolWaitMs()));
    Future.join(stored, toolsDone).onComplete(all -> {
      if (stored.failed()) {
        client.error(MeshException.from(stored.cause()).code(), "the assistant message was not stored: " + stored.cause().getMessage());
      }
      events.completed(new ConversationEvent.AgentCompleted(id, interrupted, heardText, timings.json(), servedBy(),
          failure == null ? null : failure.code(), failure == null ? null : failure.getMessage()));
      finished.complete();
    });
  }

  // ---- what cuts a turn short ----------------------------------------------------------------

  /** A cluster member left: what of this turn ran there is asked of another node, once. */
  void nodeLeft(NodeLeft left) {
    if (completing) {
      // An interrupted turn still waits for its worker's open tool calls; from a node that left, none will come.
      if (left.had(Role.LLM) && left.node().equals(llm.node())) {
        llm.abandon();
        tools.closeAll(ErrorCode.ENGINE_UNAVAILABLE, "its LLM node was lost before it reported");
      }
      return;
    }
    if (!llmDone && left.had(Role.LLM)) {
      llm.nodeLeft(left.node());
    }
    if (left.had(Role.TTS)) {
      synthesis.nodeLeft(left.node());
    }
  }

  /** Barge-in or cancel: stop speaking now and keep only what was heard. */
  void interrupt() {
    if (!begun) {
      interruptedEarly = true;
      return;
    }
    if (completing) {
      return;
    }
    llm.stop();
    JsonObject cancel = Json.encode(new TurnCancel(id));
    bus.publish(Addresses.LLM_CANCEL, cancel);
    bus.publish(Addresses.TTS_CANCEL, cancel);
    playout.stop();
    if (audioStarted) {
      events.audio(new ConversationEvent.AudioClear(id));
    }
    complete(true);
  }

  /** An engine failed: report it, play out what was already said, end the turn with the error. */
  private void fail(MeshException error) {
    if (completing || llmDone) {
      return;
    }
    failure = error;
    llm.abandon();
    client.error(error.code(), error.getMessage());
    bus.publish(Addresses.LLM_CANCEL, Json.encode(new TurnCancel(id)));
    endLlm();
  }

  /** No more sentences will come: the playout may drain. */
  private void endLlm() {
    llmDone = true;
    llm.stop();
    playout.lastSentence(synthesis.count());
  }

  /** Which nodes did this turn's work: for operators, and for tests that check work spreads. */
  private JsonObject servedBy() {
    JsonObject nodes = new JsonObject();
    if (sttNode != null) {
      nodes.put("stt", sttNode);
    }
    if (llm.node() != null) {
      nodes.put("llm", llm.node());
    }
    if (!synthesis.nodes().isEmpty()) {
      nodes.put("tts", new JsonArray(synthesis.nodes()));
    }
    return nodes;
  }

  /** {@code future}, or a success after {@code ms} if it has not completed by then. */
  private Future<Void> within(Future<Void> future, long ms) {
    if (ms <= 0) {
      return Future.succeededFuture();
    }
    Promise<Void> bounded = Promise.promise();
    long timer = vertx.setTimer(ms, t -> bounded.tryComplete());
    future.onComplete(done -> {
      vertx.cancelTimer(timer);
      if (done.succeeded()) {
        bounded.tryComplete();
      } else {
        bounded.tryFail(done.cause());
      }
    });
    return bounded.future();
  }
}
