package io.voicemesh.api.event;

import io.vertx.core.json.JsonObject;
import io.voicemesh.api.ErrorCode;

/**
 * What a conversation tells its client, whatever protocol the client speaks: the session events
 * of one conversation, typed. Each protocol adapter renders them into its own wire messages; the
 * session's event log (and so listeners, dashboards and Kafka) stores them under their
 * {@link #type()} with their {@link #fields()}, the {@code voicemesh.v1} form.
 *
 * <p>The order of a turn's events is a contract (see the gateway's {@code TurnEvents}):
 * {@code user_message → agent_started → agent_thinking → (tool_executing → tool_completed)* →
 * agent_response.delta* → agent_response → agent_completed}, audio events in between.
 */
public sealed interface ConversationEvent {
  String SPEECH_STARTED = "speech_started";
  String SPEECH_STOPPED = "speech_stopped";
  String TRANSCRIPT_PARTIAL = "transcript.partial";
  String TRANSCRIPT_FINAL = "transcript.final";
  String USER_BACKCHANNEL = "user_backchannel";
  String USER_MESSAGE = "user_message";
  String AGENT_STARTED = "agent_started";
  String AGENT_THINKING = "agent_thinking";
  String TOOL_EXECUTING = "tool_executing";
  String TOOL_COMPLETED = "tool_completed";
  String FUNCTION_CALL = "function_call";
  String AGENT_RESPONSE_DELTA = "agent_response.delta";
  String AGENT_RESPONSE = "agent_response";
  String AGENT_COMPLETED = "agent_completed";
  String AUDIO_START = "audio.start";
  String AUDIO_END = "audio.end";
  String AUDIO_CLEAR = "audio.clear";
  String DTMF = "dtmf";
  String ERROR = "error";
  String WARNING = "warning";
  /** Logged by the session role when a session ends; not made by a conversation. */
  String SESSION_ENDED = "session.ended";

  /** The event's name in {@code voicemesh.v1} and in the event log. */
  String type();

  /** Its fields in {@code voicemesh.v1} and in the log (the log adds type, seq, sessionId and ts). */
  JsonObject fields();

  /** An event of one agent turn. */
  sealed interface OfTurn extends ConversationEvent {
    String turnId();

    /** The turn's own fields, after its id. */
    JsonObject body();

    @Override
    default JsonObject fields() {
      return new JsonObject().put("turnId", turnId()).mergeIn(body());
    }
  }

  // ---- the user's speech -------------------------------------------------------------------

  record SpeechStarted(long audioMs) implements ConversationEvent {
    public String type() {
      return SPEECH_STARTED;
    }

    public JsonObject fields() {
      return new JsonObject().put("audioMs", audioMs);
    }
  }

  record SpeechStopped(long audioMs) implements ConversationEvent {
    public String type() {
      return SPEECH_STOPPED;
    }

    public JsonObject fields() {
      return new JsonObject().put("audioMs", audioMs);
    }
  }

  record TranscriptPartial(String text, long audioMs) implements ConversationEvent {
    public String type() {
      return TRANSCRIPT_PARTIAL;
    }

    public JsonObject fields() {
      return new JsonObject().put("text", text).put("audioMs", audioMs);
    }
  }

  /** The user's utterance is over; {@code text} may be empty when nothing was recognized. */
  record TranscriptFinal(String text, long audioMs) implements ConversationEvent {
    public String type() {
      return TRANSCRIPT_FINAL;
    }

    public JsonObject fields() {
      return new JsonObject().put("text", text).put("audioMs", audioMs);
    }
  }

  /** A short acknowledgement said while the agent talked; the answer went on. */
  record UserBackchannel(String turnId, String text) implements OfTurn {
    public String type() {
      return USER_BACKCHANNEL;
    }

    public JsonObject body() {
      return new JsonObject().put("text", text);
    }
  }

  /** A key the caller pressed (phone calls). */
  record Dtmf(String digit) implements ConversationEvent {
    public String type() {
      return DTMF;
    }

    public JsonObject fields() {
      return new JsonObject().put("digit", digit);
    }
  }

  // ---- one agent turn ------------------------------------------------------------------------

  /** The turn's user message: what the model is asked to answer. */
  record UserMessage(String turnId, String text) implements OfTurn {
    public String type() {
      return USER_MESSAGE;
    }

    public JsonObject body() {
      return new JsonObject().put("text", text);
    }
  }

  record AgentStarted(String turnId) implements OfTurn {
    public String type() {
      return AGENT_STARTED;
    }

    public JsonObject body() {
      return new JsonObject();
    }
  }

  /** An LLM worker took the turn. */
  record AgentThinking(String turnId) implements OfTurn {
    public String type() {
      return AGENT_THINKING;
    }

    public JsonObject body() {
      return new JsonObject();
    }
  }

  record ToolExecuting(String turnId, String callId, String name, JsonObject arguments) implements OfTurn {
    public String type() {
      return TOOL_EXECUTING;
    }

    public JsonObject body() {
      return new JsonObject().put("callId", callId).put("name", name).put("arguments", arguments);
    }
  }

  /** A tool call's outcome: {@code result}, or {@code error} ({@code code}, {@code message}). */
  record ToolCompleted(String turnId, String callId, String name, JsonObject result, ErrorCode errorCode,
      String errorMessage) implements OfTurn {
    public String type() {
      return TOOL_COMPLETED;
    }

    public JsonObject body() {
      JsonObject body = new JsonObject().put("callId", callId).put("name", name);
      if (errorCode == null) {
        return body.put("result", result);
      }
      return body.put("error", new JsonObject().put("code", errorCode.wire()).put("message", errorMessage));
    }
  }

  /**
   * The model called a tool the client runs (the Realtime protocol's function calling): the client
   * runs it and sends its output; {@code arguments} is the model's JSON text.
   */
  record FunctionCall(String turnId, String callId, String name, String arguments) implements OfTurn {
    public String type() {
      return FUNCTION_CALL;
    }

    public JsonObject body() {
      return new JsonObject().put("callId", callId).put("name", name).put("arguments", arguments);
    }
  }

  /** More text of the answer. */
  record AgentDelta(String turnId, String delta) implements OfTurn {
    public String type() {
      return AGENT_RESPONSE_DELTA;
    }

    public JsonObject body() {
      return new JsonObject().put("delta", delta);
    }
  }

  /** The whole answer, once the model completed it. */
  record AgentResponse(String turnId, String text) implements OfTurn {
    public String type() {
      return AGENT_RESPONSE;
    }

    public JsonObject body() {
      return new JsonObject().put("text", text);
    }
  }

  /**
   * The turn is over. {@code heardText}: what the user heard of the answer (all of it unless
   * interrupted); {@code timings} and {@code servedBy} describe how it went; {@code errorCode} and
   * {@code errorMessage} say why it failed, if it did.
   */
  record AgentCompleted(String turnId, boolean interrupted, String heardText, JsonObject timings, JsonObject servedBy,
      ErrorCode errorCode, String errorMessage) implements OfTurn {
    public String type() {
      return AGENT_COMPLETED;
    }

    public boolean failed() {
      return errorCode != null;
    }

    public JsonObject body() {
      JsonObject body = new JsonObject().put("interrupted", interrupted).put("heardText", heardText)
          .put("timings", timings).put("servedBy", servedBy);
      if (errorCode != null) {
        body.put("error", new JsonObject().put("code", errorCode.wire()).put("message", errorMessage));
      }
      return body;
    }
  }

  /** The answer's audio begins, at {@code sampleRate} Hz. */
  record AudioStart(String turnId, int sampleRate) implements OfTurn {
    public String type() {
      return AUDIO_START;
    }

    public JsonObject body() {
      return new JsonObject().put("sampleRate", sampleRate);
    }
  }

  /** The answer's audio is all sent: {@code audioMs} of it. */
  record AudioEnd(String turnId, long audioMs) implements OfTurn {
    public String type() {
      return AUDIO_END;
    }

    public JsonObject body() {
      return new JsonObject().put("audioMs", audioMs);
    }
  }

  /** Drop the answer's audio not yet played: the user interrupted it. */
  record AudioClear(String turnId) implements OfTurn {
    public String type() {
      return AUDIO_CLEAR;
    }

    public JsonObject body() {
      return new JsonObject();
    }
  }

  // ---- the session ---------------------------------------------------------------------------

  /** A failure the session's listeners should see too (an engine failed). */
  record Error(ErrorCode code, String message) implements ConversationEvent {
    public String type() {
      return ERROR;
    }

    public JsonObject fields() {
      return new JsonObject().put("code", code.wire()).put("message", message);
    }
  }

  /** Not a failure: {@code stage} (stt, tts) is served differently, e.g. by its fallback engine. */
  record Warning(String stage, String code, String message) implements ConversationEvent {
    public String type() {
      return WARNING;
    }

    public JsonObject fields() {
      return new JsonObject().put("stage", stage).put("code", code).put("message", message);
    }
  }
}
