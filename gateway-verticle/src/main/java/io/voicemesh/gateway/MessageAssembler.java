package io.voicemesh.gateway;

import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.WebSocketFrame;
import io.voicemesh.api.ErrorCode;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;

/**
 * Reassembles WebSocket messages from their frames with a size cap per kind. A message that grows
 * past its cap stops being buffered at once and is reported when its last frame arrives, so an
 * oversized message costs its sender an error, not the server memory. (A single frame beyond
 * {@link GatewaySettings#HARD_FRAME_LIMIT_BYTES} never gets here: the WebSocket layer closes the
 * connection with 1009.)
 */
final class MessageAssembler implements Handler<WebSocketFrame> {
  /** What to do with complete messages, and with one that was too large. */
  interface Sink {
    void text(String message);

    void binary(Buffer message);

    void oversized(boolean text, long bytes, int limit);

    /** A text message that is not valid UTF-8 (RFC 6455 §8.1: the connection fails, 1007). */
    void invalidText();
  }

  private final int maxTextBytes;
  private final int maxBinaryBytes;
  private final Sink sink;
  private Buffer pending;
  private boolean text;
  private boolean oversized;
  private long bytes;
  private boolean inMessage;

  MessageAssembler(int maxTextBytes, int maxBinaryBytes, Sink sink) {
    this.maxTextBytes = maxTextBytes;
    this.maxBinaryBytes = maxBinaryBytes;
    this.sink = sink;
  }

  /**
   * The assembler of a client connection: limits from {@code settings}, complete messages to
   * {@code text} and {@code binary}, an oversized one answered with {@code frame_too_large}.
   */
  static MessageAssembler forClient(GatewaySettings settings, ClientChannel client, SocketGuard guard,
      Consumer<String> text, Consumer<Buffer> binary) {
    return new MessageAssembler(settings.maxTextFrameBytes(), settings.maxBinaryFrameBytes(), new Sink() {
      @Override
      public void text(String message) {
        text.accept(message);
      }

      @Override
      public void binary(Buffer message) {
        binary.accept(message);
      }

      @Override
      public void oversized(boolean isText, long bytes, int limit) {
        client.replyError(ErrorCode.FRAME_TOO_LARGE, (isText ? "text" : "audio") + " messages are limited to " + limit
            + " bytes; got " + bytes);
      }

      @Override
      public void invalidText() {
        guard.invalidText();
      }
    });
  }

  @Override
  public void handle(WebSocketFrame frame) {
    if (frame.isText() || frame.isBinary()) {
      text = frame.isText();
      pending = Buffer.buffer();
      oversized = false;
      bytes = 0;
      inMessage = true;
    } else if (!frame.isContinuation() || !inMessage) {
      return;
    }
    bytes += frame.binaryData().length();
    if (bytes > limit()) {
      oversized = true;
      pending = null;
    } else if (!oversized) {
      pending.appendBuffer(frame.binaryData());
    }
    if (frame.isFinal()) {
      inMessage = false;
      Buffer message = pending;
      pending = null;
      if (oversized) {
        sink.oversized(text, bytes, limit());
      } else if (text) {
        String decoded = utf8(message);
        if (decoded == null) {
          sink.invalidText();
        } else {
          sink.text(decoded);
        }
      } else {
        sink.binary(message);
      }
    }
  }

  /** The text of a UTF-8 message, or null when it is not UTF-8 (Java's lenient decoding would hide that). */
  private static String utf8(Buffer message) {
    try {
      return StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(message.getBytes()))
          .toString();
    } catch (CharacterCodingException e) {
      return null;
    }
  }

  private int limit() {
    return text ? maxTextBytes : maxBinaryBytes;
  }
}
