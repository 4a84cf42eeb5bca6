package io.voicemesh.gateway;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.voicemesh.api.ErrorCode;
import io.voicemesh.api.audio.Pcm16;
import io.voicemesh.api.audio.Resampler;
import io.voicemesh.api.event.ConversationEvent;
import io.voicemesh.api.event.ConversationEvent.AgentCompleted;
import io.voicemesh.api.event.ConversationEvent.AgentDelta;
import io.voicemesh.api.event.ConversationEvent.AgentStarted;
import io.voicemesh.api.event.ConversationEvent.SpeechStarted;
import io.voicemesh.api.event.ConversationEvent.SpeechStopped;
import io.voicemesh.api.event.ConversationEvent.TranscriptFinal;
import io.voicemesh.api.event.ConversationEvent.TranscriptPartial;
import io.voicemesh.api.message.LoggedEvent;
import io.voicemesh.api.message.ChatMessage;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;

/**
 * Renders a conversation in the OpenAI Realtime protocol's server events: the user's speech as
 * {@code input_audio_buffer.*} and a user item with its transcription, each agent turn as one
 * response with one assistant message item (audio and its transcript, or text), in the order and
 * shapes of the protocol's reference. Beta clients get the beta names of the renamed events.
 *
 * <pre>
 * speech_started     → input_audio_buffer.speech_started
 * speech_stopped     → input_audio_buffer.speech_stopped
 * transcript.partial → conversation.item.input_audio_transcription.delta (what the hypothesis added)
 * transcript.final   → input_audio_buffer.committed · conversation.item.added/done ·
 *                      conversation.item.input_audio_transcription.completed
 * agent_started      → response.created · response.output_item.added · conversation.item.added ·
 *                      response.content_part.added
 * agent_response.delta → response.output_audio_transcript.delta (audio) / response.output_text.delta
 * function_call      → a function_call item: response.output_item.added ·
 *                      response.function_call_arguments.delta/done · response.output_item.done
 * agent audio        → response.output_audio.delta (base64, in the session's output format)
 * agent_completed    → the *.done events · conversation.item.done · response.done (completed,
 *                      cancelled, failed) · rate_limits.updated
 * error              → error
 * </pre>
 * Events of ours without a Realtime counterpart (tool events of server-side tools, backchannels,
 * warnings, DTMF) stay in the session's event log, where listeners and Kafka see them.
 */
final class RealtimeEvents implements ClientChannel.Renderer {
  private final ClientChannel client;
  private final RealtimeSession session;
  private long eventCounter;
  private String lastItemId;
  /** The user's audio item being spoken, or null. */
  private String userItemId;
  private String partialSoFar = "";
  private Response response;
  /** Assistant items by the turn that made them (a few recent ones), for truncate. */
  private final Map<String, String> turnsByItem = new LinkedHashMap<>(16, 0.75f, false) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, String> eldest) {
      return size() > 16;
    }
  };
  /** The user items not yet answered: the next turn's user message is theirs. */
  private final List<String> unansweredUserItems = new ArrayList<>();
  /** Items whose message the history holds: item id → turn, and whether it is the user's. */
  private final Map<String, StoredItem> stored = new LinkedHashMap<>(16, 0.75f, false) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, StoredItem> eldest) {
      return size() > 256;
    }
  };

  /** Where an item's message is kept: the turn it belongs to, and its role. */
  record StoredItem(String turnId, ChatMessage.Role role) {
  }

  /** The id of the client event being handled, for the errors it causes. */
  private String clientEventId;
  /** Why the next response that ends interrupted ends: the client's cancel, or the user's speech. */
  private boolean cancelRequested;

  /**
   * One agent turn as a response: a message item (made when the first words or audio come) and a
   * function_call item per call of a client tool, in the order they came.
   */
  private final class Response {
    final String id = "resp_" + shortId();
    final String itemId = "item_" + shortId();
    final String turnId;
    /** The message item's output_index, or -1 before it is made. */
    int messageIndex = -1;
    final JsonArray output = new JsonArray();
    final StringBuilder transcript = new StringBuilder();
    final Resampler resampler;

    Response(String turnId) {
      this.turnId = turnId;
      RealtimeSession.Format format = session.outputFormat;
      resampler = new Resampler(Pcm16.DEFAULT_RATE_HZ, format.rateHz);
    }
  }

  RealtimeEvents(ClientChannel client, RealtimeSession session) {
    this.client = client;
    this.session = session;
  }

  static String shortId() {
    return UUID.randomUUID().toString().replace("-", "").substring(0, 20);
  }

  /** The client event being handled (null once done): errors name it. */
  void handling(String eventId) {
    this.clientEventId = eventId;
  }

  /** The client cancels the response in progress (none: nothing to say about the next one). */
  void cancelRequested() {
    cancelRequested = response != null;
  }

  /** The turn whose answer is {@code itemId}, or null. */
  String turnOf(String itemId) {
    return turnsByItem.get(itemId);
  }

  /** Where item {@code itemId}'s message is kept, or null for an item the history does not hold. */
  StoredItem storedItem(String itemId) {
    return stored.get(itemId);
  }

  /** Sends one server event of {@code type}; the beta name when the client is beta. */
  void send(String type, JsonObject fields) {
    JsonObject event = new JsonObject().put("type", session.beta ? betaName(type) : type)
        .put("event_id", "event_" + (++eventCounter) + "_" + client.sessionId());
    client.sendText(event.mergeIn(fields).encode());
  }

  private static String betaName(String type) {
    return switch (type) {
      case "response.output_audio.delta" -> "response.audio.delta";
      case "response.output_audio.done" -> "response.audio.done";
      case "response.output_audio_transcript.delta" -> "response.audio_transcript.delta";
      case "response.output_audio_transcript.done" -> "response.audio_transcript.done";
      case "response.output_text.delta" -> "response.text.delta";
      case "response.output_text.done" -> "response.text.done";
      case "conversation.item.added" -> "conversation.item.created";
      default -> type;
    };
  }

  /** An {@code error} event: {@code invalid_request_error} for what the client sent, else {@code server_error}. */
  void error(ErrorCode code, String message, String param) {
    error(code, message, param, clientEventId);
  }

  /** The same for client event {@code eventId}, answered later than while it was handled. */
  void error(ErrorCode code, String message, String param, String eventId) {
    String type = switch (code) {
      case BAD_REQUEST, BAD_FRAME, BAD_AUDIO, UNKNOWN_TYPE, FRAME_TOO_LARGE, FORBIDDEN, UNAUTHORIZED,
          SESSION_NOT_FOUND, NOT_FOUND, SESSION_ENDED, AGENT_NOT_FOUND -> "invalid_request_error";
      case RATE_LIMITED, QUOTA_EXCEEDED, CAPACITY -> "rate_limit_error";
      default -> "server_error";
    };
    send("error", new JsonObject().put("error", new JsonObject().put("type", type).put("code", code.wire())
        .put("message", message).put("param", param).put("event_id", eventId)));
  }

  // ---- items the client made -----------------------------------------------------------------

  /** A user text message the client created: the item, added and done. */
  String userTextItem(String text, String itemId) {
    String id = itemId == null ? "item_" + shortId() : itemId;
    JsonObject item = item(id, "user", "completed",
        new JsonArray().add(new JsonObject().put("type", "input_text").put("text", text)));
    itemAdded(item);
    send("conversation.item.done", new JsonObject().put("previous_item_id", lastItemId).put("item", item));
    unansweredUserItems.add(id);
    return id;
  }

  void sendSessionUpdated() {
    send("session.updated", new JsonObject().put("session", session.describe(client.sessionId())));
  }

  void cleared() {
    userItemId = null;
    partialSoFar = "";
    send("input_audio_buffer.cleared", new JsonObject());
  }

  // ---- the conversation's events -------------------------------------------------------------

  @Override
  public void event(ConversationEvent event, LoggedEvent logged) {
    if (event instanceof SpeechStarted started) {
      userItemId = "item_" + shortId();
      partialSoFar = "";
      if (session.turnDetection != null) {
        send("input_audio_buffer.speech_started", new JsonObject().put("audio_start_ms", started.audioMs())
            .put("item_id", userItemId));
      }
    } else if (event instanceof SpeechStopped stopped) {
      if (session.turnDetection != null && userItemId != null) {
        send("input_audio_buffer.speech_stopped", new JsonObject().put("audio_end_ms", stopped.audioMs())
            .put("item_id", userItemId));
      }
    } else if (event instanceof TranscriptPartial partial) {
      transcriptionDelta(partial.text());
    } else if (event instanceof TranscriptFinal fin) {
      userSpoke(fin.text());
    } else if (event instanceof ConversationEvent.UserMessage message) {
      unansweredUserItems.forEach(id -> stored.put(id, new StoredItem(message.turnId(), ChatMessage.Role.USER)));
      unansweredUserItems.clear();
    } else if (event instanceof AgentStarted started) {
      responseStarted(started.turnId());
    } else if (event instanceof AgentDelta delta) {
      responseText(delta);
    } else if (event instanceof ConversationEvent.FunctionCall call) {
      functionCall(call);
    } else if (event instanceof AgentCompleted completed) {
      responseDone(completed);
    } else if (event instanceof ConversationEvent.Error error) {
      error(error.code(), error.message(), null);
    }
  }

  private void transcriptionDelta(String hypothesis) {
    if (session.transcription == null || userItemId == null || !hypothesis.startsWith(partialSoFar)) {
      return; // the recognizer revised its hypothesis: the completed transcript will say what it is
    }
    String added = hypothesis.substring(partialSoFar.length());
    partialSoFar = hypothesis;
    if (!added.isEmpty()) {
      send("conversation.item.input_audio_transcription.delta", new JsonObject().put("item_id", userItemId)
          .put("content_index", 0).put("delta", added));
    }
  }

  private void userSpoke(String text) {
    String id = userItemId == null ? "item_" + shortId() : userItemId;
    userItemId = null;
    partialSoFar = "";
    if (text.isBlank()) {
      return;
    }
    send("input_audio_buffer.committed", new JsonObject().put("previous_item_id", lastItemId).put("item_id", id));
    JsonObject content = new JsonObject().put("type", "input_audio").put("transcript", null);
    JsonObject item = item(id, "user", "completed", new JsonArray().add(content));
    unansweredUserItems.add(id);
    itemAdded(item);
    send("conversation.item.done", new JsonObject().put("previous_item_id", lastItemId).put("item", item));
    if (session.transcription != null) {
      send("conversation.item.input_audio_transcription.completed", new JsonObject().put("item_id", id)
          .put("content_index", 0).put("transcript", text)
          .put("usage", new JsonObject().put("type", "duration").put("seconds", 0)));
    }
  }

  private void responseStarted(String turnId) {
    response = new Response(turnId);
    turnsByItem.put(response.itemId, turnId);
    send("response.created", new JsonObject().put("response", responseObject("in_progress", null, new JsonArray())));
  }

  /** The response's message item and its content part, once its first words or audio come. */
  private void messageStarts() {
    if (response.messageIndex >= 0) {
      return;
    }
    response.messageIndex = response.output.size();
    response.output.addNull(); // its place; filled when it is done
    JsonObject item = item(response.itemId, "assistant", "in_progress", new JsonArray());
    send("response.output_item.added", new JsonObject().put("response_id", response.id)
        .put("output_index", response.messageIndex).put("item", item));
    itemAdded(item);
    send("response.content_part.added", partFields().put("part", part("")));
  }

  /** A call of a tool the client runs: a function_call item of the response, added and done. */
  private void functionCall(ConversationEvent.FunctionCall call) {
    if (response == null || !response.turnId.equals(call.turnId())) {
      return;
    }
    String itemId = "item_" + shortId();
    int index = response.output.size();
    JsonObject item = new JsonObject().put("id", itemId).put("object", "realtime.item").put("type", "function_call")
        .put("status", "in_progress").put("call_id", call.callId()).put("name", call.name()).put("arguments", "");
    response.output.add(item);
    JsonObject fields = new JsonObject().put("response_id", response.id).put("item_id", itemId)
        .put("output_index", index).put("call_id", call.callId());
    send("response.output_item.added", new JsonObject().put("response_id", response.id).put("output_index", index)
        .put("item", item));
    itemAdded(item);
    send("response.function_call_arguments.delta", fields.copy().put("delta", call.arguments()));
    send("response.function_call_arguments.done", fields.copy().put("name", call.name()).put("arguments", call.arguments()));
    item.put("status", "completed").put("arguments", call.arguments());
    send("response.output_item.done", new JsonObject().put("response_id", response.id).put("output_index", index)
        .put("item", item));
    send("conversation.item.done", new JsonObject().put("previous_item_id", null).put("item", item));
  }

  /** The client's output of a call: its item, added and done. */
  void functionOutputItem(String callId, String output, String itemId) {
    JsonObject item = new JsonObject().put("id", itemId == null ? "item_" + shortId() : itemId)
        .put("object", "realtime.item").put("type", "function_call_output").put("status", "completed")
        .put("call_id", callId).put("output", output);
    itemAdded(item);
    send("conversation.item.done", new JsonObject().put("previous_item_id", lastItemId).put("item", item));
  }

  private void responseText(AgentDelta delta) {
    if (response == null || !response.turnId.equals(delta.turnId())) {
      return;
    }
    messageStarts();
    response.transcript.append(delta.delta());
    send(session.audioOut() ? "response.output_audio_transcript.delta" : "response.output_text.delta",
        partFields().put("delta", delta.delta()));
  }

  @Override
  public void audio(Buffer pcm) {
    if (response == null || !session.audioOut()) {
      return;
    }
    messageStarts();
    sendAudio(response.resampler.process(pcm.getBytes()));
  }

  private void sendAudio(byte[] pcm) {
    RealtimeSession.Format format = session.outputFormat;
    byte[] wire = format.law == null ? pcm : format.law.encode(pcm);
    if (wire.length > 0) {
      send("response.output_audio.delta", partFields().put("delta", Base64.getEncoder().encodeToString(wire)));
    }
  }

  private void responseDone(AgentCompleted completed) {
    if (response == null || !response.turnId.equals(completed.turnId())) {
      return;
    }
    // What the user heard, when interrupted; the whole answer otherwise.
    String transcript = completed.interrupted() || completed.failed() ? completed.heardText()
        : response.transcript.toString();
    String status = completed.failed() ? "failed" : completed.interrupted() ? "cancelled" : "completed";
    JsonObject details = null;
    if (completed.failed()) {
      details = new JsonObject().put("type", "failed").put("error", new JsonObject().put("type", "server_error")
          .put("code", completed.errorCode().wire()).put("message", completed.errorMessage()));
    } else if (completed.interrupted()) {
      details = new JsonObject().put("type", "cancelled")
          .put("reason", cancelRequested ? "client_cancelled" : "turn_detected");
    }
    cancelRequested = false;
    if (response.messageIndex >= 0) {
      messageDone(completed, transcript);
      // Stored (what was heard of it) by the time agent_completed came.
      stored.put(response.itemId, new StoredItem(response.turnId, ChatMessage.Role.ASSISTANT));
    }
    send("response.done", new JsonObject().put("response", responseObject(status, details, response.output)));
    send("rate_limits.updated", new JsonObject().put("rate_limits", new JsonArray()));
    response = null;
  }

  private void messageDone(AgentCompleted completed, String transcript) {
    if (session.audioOut()) {
      sendAudio(response.resampler.flush());
      send("response.output_audio.done", partFields());
      send("response.output_audio_transcript.done", partFields().put("transcript", transcript));
    } else {
      send("response.output_text.done", partFields().put("text", transcript));
    }
    send("response.content_part.done", partFields().put("part", part(transcript)));
    JsonObject content = session.audioOut()
        ? new JsonObject().put("type", "output_audio").put("transcript", transcript)
        : new JsonObject().put("type", "output_text").put("text", transcript);
    JsonObject item = item(response.itemId, "assistant", completed.interrupted() || completed.failed()
        ? "incomplete" : "completed", new JsonArray().add(content));
    send("response.output_item.done", new JsonObject().put("response_id", response.id)
        .put("output_index", response.messageIndex).put("item", item));
    send("conversation.item.done", new JsonObject().put("previous_item_id", null).put("item", item));
    response.output.set(response.messageIndex, item);
  }

  // ---- shapes --------------------------------------------------------------------------------

  private void itemAdded(JsonObject item) {
    send("conversation.item.added", new JsonObject().put("previous_item_id", lastItemId).put("item", item));
    lastItemId = item.getString("id");
  }

  private static JsonObject item(String id, String role, String status, JsonArray content) {
    return new JsonObject().put("id", id).put("object", "realtime.item").put("type", "message")
        .put("status", status).put("role", role).put("content", content);
  }

  private JsonObject part(String transcript) {
    return session.audioOut() ? new JsonObject().put("type", "audio").put("transcript", transcript)
        : new JsonObject().put("type", "text").put("text", transcript);
  }

  private JsonObject partFields() {
    return new JsonObject().put("response_id", response.id).put("item_id", response.itemId)
        .put("output_index", response.messageIndex).put("content_index", 0);
  }

  private JsonObject responseObject(String status, JsonObject details, JsonArray output) {
    JsonObject usage = "in_progress".equals(status) ? null : new JsonObject().put("total_tokens", 0)
        .put("input_tokens", 0).put("output_tokens", 0)
        .put("input_token_details", new JsonObject().put("text_tokens", 0).put("audio_tokens", 0)
            .put("cached_tokens", 0))
        .put("output_token_details", new JsonObject().put("text_tokens", 0).put("audio_tokens", 0));
    JsonObject body = new JsonObject().put("object", "realtime.response").put("id", response.id)
        .put("status", status).put("status_details", details).put("output", output)
        .put("conversation_id", client.sessionId()).put("usage", usage).put("metadata", null);
    if (session.beta) {
      body.put("modalities", session.audioOut() ? new JsonArray().add("text").add("audio") : new JsonArray().add("text"));
    } else {
      body.put("output_modalities", new JsonArray(session.outputModalities))
          .put("audio", new JsonObject().put("output", new JsonObject().put("format", session.outputFormat.describe())
              .put("voice", session.voice)));
    }
    return body.put("max_output_tokens", session.maxOutputTokens);
  }

  // ---- what the core sends as voicemesh.v1 replies -------------------------------------------

  @Override
  public void logged(long seq, String json) {
    // A Realtime session is always new on its connection: nothing is replayed to it.
  }

  @Override
  public void reply(String type, JsonObject fields) {
    switch (type) {
      case "session.ready" -> send("session.created", new JsonObject().put("session", session.describe(client.sessionId())));
      case "error" -> {
        ErrorCode code = ErrorCode.ofWire(fields.getString("code"));
        error(code == null ? ErrorCode.INTERNAL : code, fields.getString("message"), null);
      }
      default -> { } // voicemesh.v1-only replies
    }
  }
}
