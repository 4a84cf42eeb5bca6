package io.voicemesh.gateway;

import io.vertx.core.buffer.Buffer;

/**
 * One wire protocol spoken on a speaker connection. It parses the client's messages into
 * {@link ConversationControl} commands; unless it speaks {@code voicemesh.v1}, it also renders the
 * conversation's events, replies and audio ({@link ClientChannel.Renderer}). The conversation
 * itself knows no protocol.
 */
interface WireProtocol {
  /** A text message from the client. */
  void text(String text);

  /** A binary message from the client. */
  void binary(Buffer frame);

  /** How the conversation is shown to the client; null: as {@code voicemesh.v1} ({@link ClientChannel}'s own). */
  default ClientChannel.Renderer renderer() {
    return null;
  }

  /** Makes the protocol for one connection. */
  interface Factory {
    WireProtocol create(ConversationControl conversation, ClientChannel client);
  }
}
