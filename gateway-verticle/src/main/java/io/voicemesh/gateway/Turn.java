package io.voicemesh.gateway;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.json.JsonObject;
import io.voicemesh.api.Addresses;
import io.voicemesh.api.Bus;
import io.voicemesh.api.ErrorCode;
import io.voicemesh.api.Json;
import io.voicemesh.api.MeshException;
import io.voicemesh.api.MeshMetrics;
import io.voicemesh.api.audio.Pcm16;
import io.voicemesh.api.Role;
import io.voicemesh.api.message.AudioChunkHeader;
import io.voicemesh.api.message.ChatMessage;
import io.voicemesh.api.message.GenerateRequest;
import io.voicemesh.api.message.LlmEvent;
import io.voicemesh.api.message.MessageAppend;
import io.voicemesh.api.message.NodeLeft;
import io.voicemesh.api.message.SynthesizeDone;
import io.voicemesh.api.message.SynthesizeRequest;
import io.voicemesh.api.message.ToolCall;
import io.voicemesh.api.message.TurnCancel;
import io.vertx.core.json.JsonArray;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One agent turn, from the user's final transcript to the last audio chunk:
 * <ol>
 *   <li>store the user message, read the recent context ({@code session.*}; while the store is
 *       away, the {@link ConversationHistory} this gateway knows);</li>
 *   <li>{@code llm.generate}: deltas become {@code agent_response.delta} events and, cut by the
 *       {@link SentenceChunker}, one {@code tts.synthesize} per sentence; tool calls become
 *       {@code tool_executing} / {@code tool_completed} pairs;</li>
 *   <li>audio chunks play in order through the {@link AudioPlayout};</li>
 *   <li>store what the user heard as the assistant message, then {@code agent_completed}.</li>
 * </ol>
 * An interruption cancels the LLM and TTS work, stops the audio at once, and stores only the
 * sentences the user heard whole (fully sent and, when the client sends {@code playback.mark},
 * fully played).
 *
 * <p>When the node running the LLM stream or a sentence's synthesis leaves the cluster, that
 * request is made once more on another node. The retried answer's text is matched against what
 * the client already has: only what is new is sent, and tool calls already made are not shown
 * twice. A sentence's audio is played by chunk index, so a retried sentence resumes where the
 * lost one stopped and the client hears the answer in order.
 */
final class Turn {
  private static final Logger LOG = LoggerFactory.getLogger(Turn.class);
  final String id = UUID.randomUUID().toString();
  private final Vertx vertx;
  private final EventBus bus;
  private final ClientChannel client;
  private final GatewaySettings settings;
  private final String sessionId;
  private final String connectionId;
  private final String agent;
  private final String voice;
  private final String userText;
  private final TurnClock clock;
  private final String sttNode;
  private final ConversationHistory conversationHistory;
  private List<ChatMessage> history;
  private String llmNode;
  private int llmAttempt;
  /** The answer text the client has been sent, and the current attempt's text so far. */
  private final StringBuilder answerSent = new StringBuilder();
  private final StringBuilder attemptText = new StringBuilder();
  /** Tool calls shown to the client, by name and arguments, with the callId they were shown with. */
  private final Map<String, String> shownCalls = new HashMap<>();
  /** A retried attempt's callIds: shown under an earlier callId, or not at all (null). */
  private final Map<String, String> retriedCalls = new HashMap<>();
  /** Sentences whose synthesis is not done yet: the node it runs on (null until known) and its attempt. */
  private final Map<Integer, Synthesis> synthesizing = new HashMap<>();
  private final Set<String> ttsNodes = new LinkedHashSet<>();
  /** Stage timings of this turn in ms, for agent_completed; each recorded into its histogram too. */
  private final JsonObject timings = new JsonObject();
  private long generateSentNanos = -1;
  private long firstSynthesisNanos = -1;
  private final SentenceChunker chunker = new SentenceChunker();
  private final List<String> sentences = new ArrayList<>();
  private final AudioPlayout playout;
  private final Promise<Void> finished = Promise.promise();
  /** Where each fully sent sentence ends in this turn's audio, in order. */
  private final List<Long> sentenceEndsMs = new ArrayList<>();
  /** The client's latest {@code playback.mark}: audio it has actually played; -1 until one comes. */
  private long playedMs = -1;
  private boolean audioStarted;
  private boolean llmDone;
  private boolean completing;
  /** A sentence of this turn was spoken by a fallback engine: said once per turn, not per sentence. */
  private boolean ttsFallbackReported;
  private String answer = "";
  private MeshException failure;
  private long llmWatchdog = -1;
  /** Tool calls announced and not yet closed; every one gets its tool_completed. */
  private final Map<String, ToolCall> openTools = new LinkedHashMap<>();
  private Promise<Void> toolsClosed;
  /**
   * Completes when the LLM worker's stream for this turn has ended (done or failed), or no stream
   * will come. The stream is ordered, so once it has ended every tool call it started is known.
   */
  private final Promise<Void> llmStreamEnded = Promise.promise();
  /** How long an interrupted turn waits for the LLM worker to confirm the cancel. */
  private static final long LLM_SETTLE_MS = 2_000;

  private static final class Synthesis {
    final String text;
    int attempt = 1;
    String node;

    Synthesis(String text) {
      this.text = text;
    }
  }

  Turn(Vertx vertx, ClientChannel client, GatewaySettings settings, String sessionId, String connectionId,
      String agent, String voice, String userText, TurnClock clock, String sttNode, ConversationHistory conversationHistory) {
    this.vertx = vertx;
    this.bus = vertx.eventBus();
    this.client = client;
    this.settings = settings;
    this.sessionId = sessionId;
    this.connectionId = connectionId;
    this.agent = agent;
    this.voice = voice;
    this.userText = userText;
    this.clock = clock;
    this.sttNode = sttNode;
    this.conversationHistory = conversationHistory;
    this.playout = new AudioPlayout(vertx, Pcm16.DEFAULT_RATE_HZ, settings.playoutLeadMs(), this::playAudio,
        this::sentencePlayed, this::audioDrained);
  }

  /** Completes once the turn has ended and its assistant message is stored. */
  Future<Void> finished() {
    return finished.future();
  }

  /** True while the agent may still speak in this turn. */
  boolean active() {
    return !completing;
  }

  /** The user may be interrupting: no more audio goes out until {@link #resumePlayback} or {@link #interrupt}. */
  void pausePlayback() {
    playout.pause();
  }

  /** The user was not interrupting after all: the answer goes on where it paused. */
  void resumePlayback() {
    playout.resume();
  }

  void start() {
    measure("endpointingMs", MeshMetrics.ENDPOINTING, clock.speechEndNanos(), clock.turnEndNanos());
    if (clock.turnEndNanos() >= 0 && clock.finalNanos() >= clock.turnEndNanos()) {
      timings.put("sttFinalMs", (clock.finalNanos() - clock.turnEndNanos()) / 1_000_000);
    }
    client.emit("user_message", new JsonObject().put("turnId", id).put("text", userText));
    // While the store is away the turn goes on with the history this conversation knows.
    boolean storeBehind = conversationHistory.behind() || client.storageBehind();
    Future<Void> userStored = conversationHistory.add(new MessageAppend(sessionId, id, ChatMessage.Role.USER, userText));
    conversationHistory.context(storeBehind ? null : userStored)
        .compose(context -> {
          if (completing) {
            llmStreamEnded.tryComplete();
            return Future.succeededFuture();
          }
          client.emit("agent_started", new JsonObject().put("turnId", id));
          generateSentNanos = System.nanoTime();
          history = context;
          return generate();
        })
        .onFailure(e -> fail(MeshException.from(e)));
  }

  /** Asks an LLM worker for the answer (again, after a lost worker: a new attempt, whose events alone count). */
  private Future<Void> generate() {
    int attempt = ++llmAttempt;
    armLlmWatchdog();
    GenerateRequest request = new GenerateRequest(sessionId, id, agent, history, Addresses.conversationLlm(connectionId),
        attempt);
    return Bus.request(bus, Addresses.LLM_GENERATE, request, JsonObject.class, settings.llmAckTimeoutMs())
        .compose(accepted -> {
          llmNode = accepted.getString("node");
          // An LLM worker took the turn and the model is working; no words yet.
          if (attempt == 1 && !completing) {
            client.emit("agent_thinking", new JsonObject().put("turnId", id));
          }
          return Future.succeededFuture();
        });
  }

  /** The LLM stream's node is gone: the same request once more, to whichever worker takes it. */
  private Future<Void> retryLlm() {
    if (llmAttempt >= 2) {
      return Future.failedFuture(new MeshException(ErrorCode.ENGINE_UNAVAILABLE, "the LLM worker was lost twice"));
    }
    LOG.info("turn {}: the answer once more on another LLM node ({} lost)", id, llmNode);
    attemptText.setLength(0);
    llmNode = null;
    return generate();
  }

  /** A cluster member left: what of this turn ran there is asked of another node, once. */
  void nodeLeft(NodeLeft left) {
    if (completing) {
      return;
    }
    if (!llmDone && llmNode != null && llmNode.equals(left.node()) && left.had(Role.LLM)) {
      retryLlm().onFailure(e -> fail(MeshException.from(e)));
    }
    if (left.had(Role.TTS)) {
      List.copyOf(synthesizing.entrySet()).forEach(e -> {
        Synthesis synthesis = e.getValue();
        // A sentence whose node is not known yet may have been on the lost node too.
        if (synthesis.node == null || synthesis.node.equals(left.node())) {
          retrySentence(e.getKey(), synthesis, "TTS node " + left.node() + " left");
        }
      });
    }
  }

  void onLlmEvent(LlmEvent event, int attempt) {
    if (attempt != llmAttempt) {
      return; // an earlier attempt's worker, still talking
    }
    if (event instanceof LlmEvent.ToolFinished finished) {
      String callId = finished.call().callId();
      if (retriedCalls.containsKey(callId)) {
        callId = retriedCalls.get(callId);
        if (callId == null) {
          return;
        }
      }
      toolFinished(callId, finished.call(), finished.result(), finished.code(), finished.error());
      return;
    }
    if (event instanceof LlmEvent.ToolStarted started && !finished.future().isComplete()) {
      // Also after an interruption: the worker may have started the call before the cancel reached it.
      ToolCall call = started.call();
      String signature = call.name() + call.arguments();
      String shownAs = shownCalls.get(signature);
      if (shownAs != null && llmAttempt > 1) {
        // A retried answer makes the same call again: the client saw it once (and its outcome, if any).
        retriedCalls.put(call.callId(), openTools.containsKey(shownAs) ? shownAs : null);
        return;
      }
      shownCalls.put(signature, call.callId());
      openTools.put(call.callId(), call);
      client.emit("tool_executing", new JsonObject().put("turnId", id).put("callId", call.callId())
          .put("name", call.name()).put("arguments", call.arguments()));
      return;
    }
    if (event instanceof LlmEvent.LlmDone || event instanceof LlmEvent.LlmFailed) {
      llmStreamEnded.tryComplete();
    }
    if (completing || llmDone) {
      return;
    }
    armLlmWatchdog();
    if (event instanceof LlmEvent.LlmDelta delta) {
      if (!timings.containsKey("llmFirstTokenMs")) {
        measure("llmFirstTokenMs", MeshMetrics.LLM_FIRST_TOKEN, generateSentNanos, System.nanoTime());
      }
      // After a retry, the new attempt repeats what the client already has: only the rest is new.
      attemptText.append(delta.text());
      int common = Math.min(attemptText.length(), answerSent.length());
      if (!attemptText.substring(0, common).equals(answerSent.substring(0, common))) {
        // A model that answers differently the second time: the client cannot unhear the first words.
        fail(new MeshException(ErrorCode.ENGINE_UNAVAILABLE,
            "the LLM node was lost mid-answer and the retry answered differently; the answer stops here"));
        return;
      }
      if (attemptText.length() <= answerSent.length()) {
        return;
      }
      String fresh = attemptText.substring(answerSent.length());
      answerSent.append(fresh);
      client.emit("agent_response.delta", new JsonObject().put("turnId", id).put("delta", fresh));
      chunker.push(fresh).forEach(this::speak);
    } else if (event instanceof LlmEvent.LlmDone done) {
      // After a retry the client heard the first attempt's words and the second's rest.
      answer = llmAttempt == 1 ? done.text() : answerSent.toString();
      client.emit("agent_response", new JsonObject().put("turnId", id).put("text", done.text()));
      String rest = chunker.flush();
      if (!rest.isEmpty()) {
        speak(rest);
      }
      endLlm();
    } else if (event instanceof LlmEvent.LlmFailed failed) {
      fail(new MeshException(failed.code(), failed.message()));
    }
  }

  /** Closes a tool call once, whenever its outcome comes: also after an interruption. */
  private void toolFinished(String callId, ToolCall call, JsonObject result, ErrorCode code, String error) {
    if (openTools.remove(callId) == null) {
      return;
    }
    JsonObject event = new JsonObject().put("turnId", id).put("callId", callId).put("name", call.name());
    if (code == null) {
      event.put("result", result);
    } else {
      event.put("error", new JsonObject().put("code", code.wire()).put("message", error));
    }
    client.emit("tool_completed", event);
    if (openTools.isEmpty() && toolsClosed != null) {
      toolsClosed.tryComplete();
    }
  }

  /**
   * Waits for the tools still running to report, so tool events pair up before agent_completed; a
   * tool that does not report in time is closed with an error.
   */
  private Future<Void> toolsSettled() {
    if (openTools.isEmpty()) {
      return Future.succeededFuture();
    }
    toolsClosed = Promise.promise();
    long timer = vertx.setTimer(settings.toolWaitMs(), t -> List.copyOf(openTools.values()).forEach(call ->
        toolFinished(call.callId(), call, null, ErrorCode.ENGINE_UNAVAILABLE,
            "no outcome within " + settings.toolWaitMs() + " ms")));
    return toolsClosed.future().andThen(done -> vertx.cancelTimer(timer));
  }

  void onAudioChunk(AudioChunkHeader header, Buffer pcm) {
    if (!timings.containsKey("ttsFirstAudioMs")) {
      measure("ttsFirstAudioMs", MeshMetrics.TTS_FIRST_AUDIO, firstSynthesisNanos, System.nanoTime());
    }
    Synthesis synthesis = synthesizing.get(header.sentence());
    if (synthesis != null && synthesis.node == null) {
      synthesis.node = header.node();
    }
    if (header.node() != null) {
      ttsNodes.add(header.node());
    }
    playout.chunk(header.sentence(), header.chunk(), pcm);
  }

  /** Records a stage's duration when both ends are known. */
  private void measure(String field, String meter, long fromNanos, long toNanos) {
    if (fromNanos < 0 || toNanos < fromNanos) {
      return;
    }
    long nanos = toNanos - fromNanos;
    timings.put(field, nanos / 1_000_000);
    MeshMetrics.timer(meter).record(nanos, TimeUnit.NANOSECONDS);
  }

  /** The client says it has played {@code ms} of this turn's audio. */
  void playbackMark(long ms) {
    playedMs = Math.max(playedMs, ms);
  }

  /** Barge-in or cancel: stop speaking now and keep only what was heard. */
  void interrupt() {
    if (completing) {
      return;
    }
    cancelRemoteWork();
    playout.stop();
    if (audioStarted) {
      client.emit("audio.clear", new JsonObject().put("turnId", id));
    }
    complete(true);
  }

  private void speak(String sentence) {
    int index = sentences.size();
    sentences.add(sentence);
    if (index == 0) {
      firstSynthesisNanos = System.nanoTime();
    }
    Synthesis synthesis = new Synthesis(sentence);
    synthesizing.put(index, synthesis);
    synthesize(index, synthesis);
  }

  private void synthesize(int index, Synthesis synthesis) {
    int attempt = synthesis.attempt;
    Bus.request(bus, Addresses.TTS_SYNTHESIZE, new SynthesizeRequest(sessionId, id, index, synthesis.text, voice,
            Addresses.conversationTts(connectionId)), SynthesizeDone.class, settings.ttsSentenceTimeoutMs())
        .onComplete(outcome -> {
          if (synthesizing.get(index) != synthesis) {
            return; // an attempt already settled the sentence
          }
          if (outcome.succeeded()) {
            synthesizing.remove(index);
            ttsNodes.add(outcome.result().node());
            if (outcome.result().warning() != null && !ttsFallbackReported) {
              ttsFallbackReported = true;
              client.warning("tts", Conversation.ENGINE_FALLBACK, outcome.result().warning());
            }
            playout.sentenceDone(index, outcome.result().chunks());
            return;
          }
          if (synthesis.attempt != attempt) {
            return; // superseded by a retry, which settles it
          }
          MeshException error = MeshException.from(outcome.cause());
          if (error.code() == ErrorCode.ENGINE_UNAVAILABLE && attempt == 1 && !completing) {
            retrySentence(index, synthesis, error.getMessage());
            return;
          }
          synthesizing.remove(index);
          if (!completing) {
            client.error(error.code(), "speech synthesis failed for sentence " + index + ": " + error.getMessage());
          }
          playout.sentenceDone(index, 0);
        });
  }

  /** The sentence's node is gone or silent: synthesize it once more; its audio resumes at the next chunk. */
  private void retrySentence(int index, Synthesis synthesis, String why) {
    if (synthesis.attempt > 1) {
      return;
    }
    LOG.info("turn {}: sentence {} once more on another TTS node: {}", id, index, why);
    synthesis.attempt++;
    synthesis.node = null;
    synthesize(index, synthesis);
  }

  private void playAudio(Buffer pcm) {
    if (!audioStarted) {
      audioStarted = true;
      measure("voiceToVoiceMs", MeshMetrics.VOICE_TO_VOICE, clock.speechEndNanos(), System.nanoTime());
      client.emit("audio.start", new JsonObject().put("turnId", id).put("sampleRate", Pcm16.DEFAULT_RATE_HZ));
    }
    client.audio(pcm);
  }

  private void sentencePlayed(int sentence) {
    sentenceEndsMs.add(playout.sentMs());
  }

  private void audioDrained() {
    if (audioStarted) {
      client.emit("audio.end", new JsonObject().put("turnId", id).put("audioMs", playout.sentMs()));
    }
    if (llmDone) {
      complete(false);
    }
  }

  /** No more sentences will come: the playout may drain. */
  private void endLlm() {
    llmDone = true;
    vertx.cancelTimer(llmWatchdog);
    playout.lastSentence(sentences.size());
  }

  /** An engine failed: report it, play out what was already said, end the turn with the error. */
  private void fail(MeshException error) {
    if (completing || llmDone) {
      return;
    }
    failure = error;
    llmStreamEnded.tryComplete();
    client.error(error.code(), error.getMessage());
    bus.publish(Addresses.LLM_CANCEL, Json.encode(new TurnCancel(id)));
    endLlm();
  }

  private void armLlmWatchdog() {
    vertx.cancelTimer(llmWatchdog);
    llmWatchdog = vertx.setTimer(settings.llmIdleTimeoutMs(), t -> fail(new MeshException(ErrorCode.ENGINE_UNAVAILABLE,
        "no word from the LLM worker for " + settings.llmIdleTimeoutMs() + " ms")));
  }

  private void cancelRemoteWork() {
    vertx.cancelTimer(llmWatchdog);
    JsonObject cancel = Json.encode(new TurnCancel(id));
    bus.publish(Addresses.LLM_CANCEL, cancel);
    bus.publish(Addresses.TTS_CANCEL, cancel);
  }

  /**
   * The sentences the user heard whole: those whose audio was entirely sent, and — when the
   * client reports playback — entirely played.
   */
  private String heardSentences() {
    long heardMs = playedMs < 0 ? playout.sentMs() : Math.min(playedMs, playout.sentMs());
    int whole = 0;
    while (whole < sentenceEndsMs.size() && sentenceEndsMs.get(whole) <= heardMs) {
      whole++;
    }
    return String.join(" ", sentences.subList(0, whole));
  }

  /** Which nodes did this turn's work: for operators, and for tests that check work spreads. */
  private JsonObject servedBy() {
    JsonObject nodes = new JsonObject();
    if (sttNode != null) {
      nodes.put("stt", sttNode);
    }
    if (llmNode != null) {
      nodes.put("llm", llmNode);
    }
    if (!ttsNodes.isEmpty()) {
      nodes.put("tts", new JsonArray(List.copyOf(ttsNodes)));
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

  private void complete(boolean interrupted) {
    if (completing) {
      return;
    }
    completing = true;
    String heard = interrupted || failure != null ? heardSentences() : answer;
    // Stored in order after the user's message; agent_completed waits for it (bounded): while the
    // store is away it stays queued and the turn ends without it.
    boolean storeBehind = conversationHistory.behind() || client.storageBehind();
    Future<Void> stored = heard.isBlank() ? Future.succeededFuture()
        : within(conversationHistory.add(new MessageAppend(sessionId, id, ChatMessage.Role.ASSISTANT, heard)),
            storeBehind ? 0 : settings.sessionTimeoutMs());
    // Wait (bounded) for the worker to end its stream, so a tool call it started just before the
    // cancel is known; then for every open tool call to report.
    long settleTimer = vertx.setTimer(LLM_SETTLE_MS, t -> llmStreamEnded.tryComplete());
    Future<Void> toolsDone = llmStreamEnded.future().andThen(v -> vertx.cancelTimer(settleTimer)).compose(v -> toolsSettled());
    Future.join(stored, toolsDone).onComplete(all -> {
      JsonObject completed = new JsonObject().put("turnId", id).put("interrupted", interrupted).put("heardText", heard)
          .put("timings", timings).put("servedBy", servedBy());
      if (failure != null) {
        completed.put("error", new JsonObject().put("code", failure.code().wire()).put("message", failure.getMessage()));
      }
      if (stored.failed()) {
        client.error(MeshException.from(stored.cause()).code(), "the assistant message was not stored: " + stored.cause().getMessage());
      }
      client.emit("agent_completed", completed);
      finished.complete();
    });
  }
}
