package io.voicemesh.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonObject;
import io.voicemesh.api.audio.Pcm16;
import io.voicemesh.api.audio.Reframer;
import io.voicemesh.api.audio.Wav;
import io.voicemesh.api.message.ChatMessage;
import io.voicemesh.api.message.GenerateRequest;
import io.voicemesh.api.message.LlmEvent;
import io.voicemesh.api.message.SttControl;
import io.voicemesh.api.message.SttEvent;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("The mesh contract")
class ContractTest {

  @Test
  @DisplayName("messages keep their type and fields through JSON, with wire names for types and enums")
  void jsonRoundTrip() {
    SttEvent fin = new SttEvent.TranscriptFinal("what time is it", 1200, 600);
    JsonObject json = Json.encode(fin);
    assertEquals("transcript.final", json.getString("type"));
    assertEquals(fin, Json.decode(json, SttEvent.class));

    LlmEvent failed = new LlmEvent.LlmFailed("t1", 3, ErrorCode.ENGINE_UNAVAILABLE, "down");
    assertEquals("engine_unavailable", Json.encode(failed).getString("code"));
    assertEquals(failed, Json.decode(Json.encode(failed), LlmEvent.class));

    GenerateRequest request = new GenerateRequest("s", "t", "default",
        List.of(ChatMessage.user("hi"), ChatMessage.assistant("hello")), "reply");
    assertEquals("user", Json.encode(request).getJsonArray("messages").getJsonObject(0).getString("role"));
    assertEquals(request, Json.decode(Json.encode(request), GenerateRequest.class));

    assertEquals(new SttControl.Commit(), Json.decode(new JsonObject().put("type", "commit"), SttControl.class));
  }

  @Test
  @DisplayName("JSON values inside records (metadata) round-trip whole: nested objects, arrays and nulls")
  void jsonValuesInsideRecords() {
    JsonObject metadata = new JsonObject().put("a", (Object) null).put("b", new JsonObject().put("c", (Object) null))
        .put("d", new io.vertx.core.json.JsonArray().add(1).addNull().add("x"));
    io.voicemesh.api.message.SessionOpen open = new io.voicemesh.api.message.SessionOpen(null, "ada", "default",
        metadata, null);
    JsonObject encoded = Json.encode(open);
    assertEquals(metadata, encoded.getJsonObject("metadata"));
    assertFalse(encoded.containsKey("sessionId"), "absent fields stay absent");
    assertEquals(open, Json.decode(encoded, io.voicemesh.api.message.SessionOpen.class));
  }

  @Test
  @DisplayName("unknown fields are ignored; a body of the wrong shape fails with bad_request")
  void tolerantButStrict() {
    assertEquals(new SttEvent.SpeechStarted(5),
        Json.decode(new JsonObject().put("type", "speech_started").put("audioMs", 5).put("future", true), SttEvent.class));
    assertEquals(ErrorCode.BAD_REQUEST, assertThrows(MeshException.class, () -> Json.decode("text", SttEvent.class)).code());
    assertEquals(ErrorCode.BAD_REQUEST, assertThrows(MeshException.class,
        () -> Json.decode(new JsonObject().put("type", "nonsense"), SttEvent.class)).code());
  }

  @Test
  @DisplayName("event-bus failures map to error codes: recipient codes survive, timeouts and missing handlers mean unavailable")
  void failureMapping() {
    assertEquals(ErrorCode.CAPACITY, MeshException.from(
        new ReplyException(ReplyFailure.RECIPIENT_FAILURE, ErrorCode.CAPACITY.busCode(), "full")).code());
    assertEquals(ErrorCode.ENGINE_UNAVAILABLE, MeshException.from(new ReplyException(ReplyFailure.TIMEOUT, "late")).code());
    assertEquals(ErrorCode.ENGINE_UNAVAILABLE, MeshException.from(new ReplyException(ReplyFailure.NO_HANDLERS, "none")).code());
    assertEquals(ErrorCode.INTERNAL, MeshException.from(new IllegalStateException("bug")).code());
    for (ErrorCode code : ErrorCode.values()) {
      assertEquals(code, ErrorCode.ofWire(code.wire()));
      assertEquals(code, ErrorCode.ofBusCode(code.busCode()));
    }
  }

  @Test
  @DisplayName("WAV files round-trip; placeholder sizes read to the end; stereo is refused")
  void wav() {
    byte[] pcm = {1, 2, 3, 4, 5, 6};
    byte[] wav = Wav.write(22_050, pcm);
    Wav.Audio audio = Wav.read(wav);
    assertEquals(22_050, audio.sampleRateHz());
    assertArrayEquals(pcm, audio.pcm());

    byte[] streamed = wav.clone();
    streamed[40] = streamed[41] = streamed[42] = streamed[43] = (byte) 0xff; // data size -1, as espeak-ng writes
    assertArrayEquals(pcm, Wav.read(streamed).pcm());

    byte[] stereo = wav.clone();
    stereo[22] = 2;
    assertThrows(IllegalArgumentException.class, () -> Wav.read(stereo));
    assertThrows(IllegalArgumentException.class, () -> Wav.read(new byte[10]));
  }

  @Test
  @DisplayName("the reframer cuts pieces of any size into exact frames and keeps the remainder")
  void reframer() {
    List<String> frames = new java.util.ArrayList<>();
    Reframer reframer = new Reframer(4, frame -> frames.add(java.util.Arrays.toString(frame)));
    reframer.accept(new byte[] {1, 2, 3});
    reframer.accept(new byte[] {4, 5, 6, 7, 8, 9, 10});
    reframer.accept(new byte[] {});
    assertEquals(List.of("[1, 2, 3, 4]", "[5, 6, 7, 8]"), frames);
    assertArrayEquals(new byte[] {9, 10}, reframer.remainder());
    assertArrayEquals(new byte[] {}, reframer.remainder());
    assertThrows(IllegalArgumentException.class, () -> new Reframer(0, f -> { }));
  }

  @Test
  @DisplayName("PCM16 helpers: sizes, byte order and loudness")
  void pcm() {
    assertEquals(640, Pcm16.bytesFor(16_000, 20));
    assertEquals(20, Pcm16.msFor(16_000, 640));
    assertArrayEquals(new byte[] {2, 1, 4, 3}, Pcm16.swapByteOrder(new byte[] {1, 2, 3, 4}, 0, 4));
    assertEquals(-120, Pcm16.rmsDbfs(new byte[640], 0, 640));
    byte[] full = new byte[640];
    for (int i = 0; i < full.length; i += 2) {
      full[i] = (byte) 0xff;
      full[i + 1] = (byte) 0x7f;
    }
    assertEquals(0, Pcm16.rmsDbfs(full, 0, 640), 0.01);
  }
}
