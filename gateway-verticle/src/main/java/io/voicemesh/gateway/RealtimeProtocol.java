package io.voicemesh.gateway;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.voicemesh.api.ErrorCode;
import io.voicemesh.api.MeshException;
import java.util.Map;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The OpenAI Realtime protocol on {@code /v1/realtime}: its client events become conversation
 * commands; {@link RealtimeEvents} renders the conversation. Audio comes base64 in
 * {@code input_audio_buffer.append} (PCM16 at 24 kHz, or G.711 at 8 kHz), never as binary frames.
 * A bad event is answered with an {@code error} event naming its {@code event_id}; the session goes on.
 */
final class RealtimeProtocol implements WireProtocol {
  private static final Logger LOG = LoggerFactory.getLogger(RealtimeProtocol.class);
  private static final String APPEND = "input_audio_buffer.append";
  private final ConversationControl conversation;
  private final RealtimeSession session;
  private final RealtimeEvents events;
  private final Map<String, Consumer<JsonObject>> handlers;

  /** Makes the protocol of one connection: a new Realtime session running agent {@code model}. */
  record Factory(String model, boolean beta) implements WireProtocol.Factory {
    @Override
    public WireProtocol create(ConversationControl conversation, ClientChannel client) {
      return new RealtimeProtocol(conversation, client, new RealtimeSession(model, beta));
    }
  }

  RealtimeProtocol(ConversationControl conversation, ClientChannel client, RealtimeSession session) {
    this.conversation = conversation;
    this.session = session;
    this.events = new RealtimeEvents(client, session);
    this.handlers = Map.ofEntries(
        Map.entry("session.update", this::sessionUpdate),
        Map.entry(APPEND, this::append),
        Map.entry("input_audio_buffer.commit", m -> conversation.commit()),
        Map.entry("input_audio_buffer.clear", m -> {
          conversation.clearInput();
          events.cleared();
        }),
        Map.entry("conversation.item.create", this::itemCreate),
        Map.entry("conversation.item.truncate", this::truncate),
        Map.entry("conversation.item.delete", this::delete),
        Map.entry("conversation.item.retrieve", m -> unsupported("conversation.item.retrieve",
            "items are not kept with their audio here")),
        Map.entry("response.create", m -> conversation.respond()),
        Map.entry("response.cancel", m -> {
          events.cancelRequested();
          conversation.cancelResponse();
        }),
        // WebRTC/SIP only; over a WebSocket the client clears its own playback.
        Map.entry("output_audio_buffer.clear", m -> { }));
  }

  @Override
  public void text(String text) {
    JsonObject event;
    try {
      event = new JsonObject(text);
    } catch (DecodeException | ClassCastException e) {
      events.error(ErrorCode.BAD_FRAME, "client events are JSON objects", null);
      return;
    }
    Object id = event.getValue("event_id");
    events.handling(id instanceof String eventId ? eventId : null);
    try {
      String type = String.valueOf(event.getValue("type"));
      Consumer<JsonObject> handler = handlers.get(type);
      if (handler == null) {
        events.error(ErrorCode.UNKNOWN_TYPE, "unknown client event type '" + shortened(type) + "'", "type");
      } else if (type.equals(APPEND) || conversation.textAllowed()) {
        // Audio is limited by its rate (as audio), every other event by the text message rate.
        handler.accept(event);
      }
    } catch (MeshException e) {
      events.error(e.code(), e.getMessage(), null);
    } catch (ClassCastException e) {
      events.error(ErrorCode.BAD_REQUEST, "a field has the wrong type", null);
    } catch (RuntimeException e) {
      StackTraceElement at = e.getStackTrace().length == 0 ? null : e.getStackTrace()[0];
      LOG.error("Realtime event failed: {} at {}", e.getClass().getName(), at);
      events.error(ErrorCode.INTERNAL, "the event failed; this is a bug, please report it", null);
    } finally {
      events.handling(null);
    }
  }

  @Override
  public void binary(Buffer frame) {
    events.error(ErrorCode.BAD_FRAME, "the Realtime protocol sends audio as base64 in input_audio_buffer.append, "
        + "not as binary messages", null);
  }

  private void sessionUpdate(JsonObject event) {
    Object body = event.getValue("session");
    if (!(body instanceof JsonObject changes)) {
      throw new MeshException(ErrorCode.BAD_REQUEST, "session.update needs a session object");
    }
    conversation.update(session.update(changes));
    conversation.autoRespond(session.autoRespond());
    conversation.clientTools(session.clientTools);
    conversation.voiced(session.audioOut());
    events.sendSessionUpdated();
  }

  private void append(JsonObject event) {
    byte[] bytes = Fields.base64Audio(event, "audio");
    RealtimeSession.Format format = session.inputFormat;
    if (format.law != null) {
      bytes = format.law.decode(bytes);
    } else if (bytes.length % 2 != 0) {
      throw new MeshException(ErrorCode.BAD_AUDIO, "audio/pcm is PCM16: an even number of bytes; got " + bytes.length);
    }
    conversation.audio(Buffer.buffer(bytes));
  }

  private void itemCreate(JsonObject event) {
    Object body = event.getValue("item");
    if (!(body instanceof JsonObject item)) {
      throw new MeshException(ErrorCode.BAD_REQUEST, "conversation.item.create needs an item");
    }
    String type = item.getValue("type") == null ? "message" : String.valueOf(item.getValue("type"));
    if (type.equals("function_call_output")) {
      functionCallOutput(item);
      return;
    }
    if (type.equals("function_call")) {
      unsupported("creating function_call items", "only the model makes calls");
    }
    if (!type.equals("message") || !"user".equals(item.getValue("role"))) {
      unsupported("conversation.item.create of a " + item.getValue("role") + " " + type,
          "only user messages can be created");
    }
    StringBuilder text = new StringBuilder();
    Object content = item.getValue("content");
    if (!(content instanceof JsonArray parts)) {
      throw new MeshException(ErrorCode.BAD_REQUEST, "a message item needs content: [{type: input_text, text}]");
    }
    for (Object part : parts) {
      if (!(part instanceof JsonObject p) || !"input_text".equals(p.getValue("type"))
          || !(p.getValue("text") instanceof String words)) {
        throw new MeshException(ErrorCode.BAD_REQUEST, "a user message's content parts are {type: input_text, text}");
      }
      text.append(text.length() == 0 ? "" : " ").append(words);
    }
    if (text.toString().isBlank()) {
      throw new MeshException(ErrorCode.BAD_REQUEST, "the message has no text");
    }
    Object id = item.getValue("id");
    events.userTextItem(text.toString(), id instanceof String given ? given : null);
    conversation.userText(text.toString());
  }

  private void functionCallOutput(JsonObject item) {
    if (!(item.getValue("call_id") instanceof String callId) || !(item.getValue("output") instanceof String output)) {
      throw new MeshException(ErrorCode.BAD_REQUEST, "a function_call_output item needs call_id and output (strings)");
    }
    conversation.toolOutput(callId, output);
    Object id = item.getValue("id");
    events.functionOutputItem(callId, output, id instanceof String given ? given : null);
  }

  /** The item's message leaves what the model sees; {@code conversation.item.deleted} once it has. */
  private void delete(JsonObject event) {
    if (!(event.getValue("item_id") instanceof String itemId)) {
      throw new MeshException(ErrorCode.BAD_REQUEST, "conversation.item.delete needs item_id");
    }
    RealtimeEvents.StoredItem item = events.storedItem(itemId);
    if (item == null) {
      throw new MeshException(ErrorCode.BAD_REQUEST, "no message item " + shortened(itemId)
          + " (function call items and items of a response in progress cannot be deleted)");
    }
    Object id = event.getValue("event_id");
    String eventId = id instanceof String given ? given : null;
    conversation.deleteMessage(item.turnId(), item.role())
        .onSuccess(v -> events.send("conversation.item.deleted", new JsonObject().put("item_id", itemId)))
        .onFailure(e -> {
          MeshException error = MeshException.from(e);
          events.error(error.code(), "the item was not deleted: " + error.getMessage(), "item_id", eventId);
        });
  }

  private void truncate(JsonObject event) {
    Object itemId = event.getValue("item_id");
    Object audioEnd = event.getValue("audio_end_ms");
    if (!(itemId instanceof String item) || !(audioEnd instanceof Number ms) || ms.longValue() < 0) {
      throw new MeshException(ErrorCode.BAD_REQUEST, "conversation.item.truncate needs item_id and audio_end_ms (≥ 0)");
    }
    String turnId = events.turnOf(item);
    if (turnId == null) {
      throw new MeshException(ErrorCode.BAD_REQUEST, "no assistant item " + shortened(item));
    }
    conversation.truncate(turnId, ms.longValue());
    events.send("conversation.item.truncated", new JsonObject().put("item_id", item)
        .put("content_index", event.getValue("content_index", 0)).put("audio_end_ms", ms.longValue()));
  }

  private static void unsupported(String what, String why) {
    throw new MeshException(ErrorCode.BAD_REQUEST, what + " is not supported: " + why);
  }

  private static String shortened(String text) {
    return text.length() <= 64 ? text : text.substring(0, 64) + "…";
  }

  @Override
  public ClientChannel.Renderer renderer() {
    return events;
  }
}
