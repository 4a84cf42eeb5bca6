package io.voicemesh.gateway;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.voicemesh.api.message.ToolSpec;
import java.util.List;

/**
 * What a client may ask of its conversation, whatever wire protocol it speaks: each
 * {@link WireProtocol} parses its own messages into these commands. A command that refuses its
 * input throws {@link io.voicemesh.api.MeshException} ({@code bad_request}, …) and changes nothing.
 */
interface ConversationControl {
  /** Whether another (non-audio) client message may be handled now; false: rate limited (the client was told). */
  boolean textAllowed();

  /** The user's audio: PCM16LE at the session's input rate. */
  void audio(Buffer pcm);

  /**
   * Changes session settings, named as in {@code voicemesh.v1}'s {@code session.update}; every field
   * is checked before any is applied. Returns the settings as they now are.
   */
  JsonObject update(JsonObject settings);

  /** Ends the user's utterance now, as a long enough silence would. */
  void commit();

  /** Drops the user's audio since the last utterance ended: it does not become a user message. */
  void clearInput();

  /** Whether a finished utterance starts the agent's answer at once (true), or waits for {@link #respond}. */
  void autoRespond(boolean auto);

  /** A user message given as text: answered at once when auto-responding, else on {@link #respond}. */
  void userText(String text);

  /**
   * Answers the user messages not answered yet (or the last one again, when there are none); after
   * a {@link #commit}, once its transcript is in.
   */
  void respond();

  /** Whether the agent's answers are spoken (the default) or given as text alone, with nothing synthesized. */
  void voiced(boolean spoken);

  /** The tools the client runs itself, offered to the model (the Realtime protocol's function calling). */
  void clientTools(List<ToolSpec> tools);

  /**
   * The client's output of call {@code callId}, one the model made in the last turn; the next
   * {@link #respond} sends it to the model.
   */
  void toolOutput(String callId, String output);

  /**
   * The {@code role} message of turn {@code turnId} leaves the history the model sees from the next
   * turn on (the session's event log keeps what was said).
   */
  Future<Void> deleteMessage(String turnId, io.voicemesh.api.message.ChatMessage.Role role);

  /** Stops the agent's answer (the client's own barge-in); what was heard is stored. */
  void cancelResponse();

  /** How much of the answer the client has played: {@code ms} into turn {@code turnId}'s audio (null: the current turn). */
  void playbackMark(String turnId, long ms);

  /**
   * The client stopped playing turn {@code turnId}'s answer after {@code audioEndMs}: the answer
   * is cut to the words heard by then, in the log and in what the model sees next.
   */
  void truncate(String turnId, long audioEndMs);

  /** {@code pause}, {@code resume} (the user's audio), {@code mute}, {@code unmute} (the agent's). */
  void control(String action);

  /** A key the caller pressed: logged as a session event. */
  void dtmf(String digit);

  /** The session as REST shows it, with this connection's state. */
  Future<JsonObject> status();

  /** The client ends the session (a call hung up): the session ends for every connection. */
  void endSession();
}
