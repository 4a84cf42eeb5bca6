package io.voicemesh.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.WebSocketFrame;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("The message assembler")
class MessageAssemblerTest {
  private final List<String> out = new ArrayList<>();
  private final MessageAssembler assembler = new MessageAssembler(10, 8, new MessageAssembler.Sink() {
    @Override
    public void text(String message) {
      out.add("text:" + message);
    }

    @Override
    public void binary(Buffer message) {
      out.add("binary:" + message.length());
    }

    @Override
    public void oversized(boolean text, long bytes, int limit) {
      out.add("oversized:" + (text ? "text" : "binary") + ":" + bytes + "/" + limit);
    }

    @Override
    public void invalidText() {
      out.add("invalid");
    }
  });

  @Test
  @DisplayName("joins fragments and passes whole messages on")
  void joins() {
    assembler.handle(WebSocketFrame.textFrame("hel", false));
    assembler.handle(WebSocketFrame.continuationFrame(Buffer.buffer("lo"), true));
    assembler.handle(WebSocketFrame.binaryFrame(Buffer.buffer(new byte[4]), true));
    assertEquals(List.of("text:hello", "binary:4"), out);
  }

  @Test
  @DisplayName("reports a message over its limit once, at its end, and recovers for the next")
  void oversized() {
    assembler.handle(WebSocketFrame.binaryFrame(Buffer.buffer(new byte[6]), false));
    assembler.handle(WebSocketFrame.continuationFrame(Buffer.buffer(new byte[6]), false));
    assembler.handle(WebSocketFrame.continuationFrame(Buffer.buffer(new byte[6]), true));
    assembler.handle(WebSocketFrame.textFrame("0123456789", true));
    assembler.handle(WebSocketFrame.textFrame("01234567890", true));
    assertEquals(List.of("oversized:binary:18/8", "text:0123456789", "oversized:text:11/10"), out);
  }

  @Test
  @DisplayName("ignores a stray continuation frame")
  void stray() {
    assembler.handle(WebSocketFrame.continuationFrame(Buffer.buffer("x"), true));
    assertEquals(List.of(), out);
  }

  @Test
  @DisplayName("reports a text message that is not UTF-8 (a surrogate too); a character split across frames is fine")
  void utf8() {
    assembler.handle(rawText(new byte[] {'a', (byte) 0xC3, (byte) 0x28}, true));
    assembler.handle(rawText(new byte[] {'a', (byte) 0xC3}, false));
    assembler.handle(WebSocketFrame.continuationFrame(Buffer.buffer(new byte[] {(byte) 0xA9}), true));
    assembler.handle(rawText(new byte[] {(byte) 0xED, (byte) 0xA0, (byte) 0x80}, true));
    assertEquals(List.of("invalid", "text:a\u00e9", "invalid"), out);
  }

  /** A text frame with these bytes as they came off the wire, valid UTF-8 or not. */
  private static WebSocketFrame rawText(byte[] bytes, boolean isFinal) {
    return new io.vertx.core.http.impl.ws.WebSocketFrameImpl(io.vertx.core.http.WebSocketFrameType.TEXT, bytes, isFinal);
  }
}
