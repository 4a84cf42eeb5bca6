package io.voicemesh.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.voicemesh.api.MeshException;
import io.voicemesh.api.audio.G711;
import io.voicemesh.api.audio.Pcm16;
import io.voicemesh.api.event.ConversationEvent.AudioClear;
import io.voicemesh.api.event.ConversationEvent.AudioEnd;
import io.voicemesh.api.event.ConversationEvent.AudioStart;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("Twilio Media Streams: playback rendering and the start message")
class TwilioPlaybackTest {
  private static final String SID = "MZ00000000000000000000000000000001";
  /** 100 ms of a 440 Hz tone at 16 kHz, PCM16LE. */
  private static final byte[] CHUNK = tone(100);

  private final List<JsonObject> sent = new ArrayList<>();
  private final TwilioPlayback playback = new TwilioPlayback(SID, text -> sent.add(new JsonObject(text)));

  private static byte[] tone(int ms) {
    int samples = Pcm16.DEFAULT_RATE_HZ * ms / 1000;
    byte[] pcm = new byte[samples * 2];
    for (int i = 0; i < samples; i++) {
      short s = (short) (8000 * Math.sin(2 * Math.PI * 440 * i / Pcm16.DEFAULT_RATE_HZ));
      pcm[2 * i] = (byte) s;
      pcm[2 * i + 1] = (byte) (s >> 8);
    }
    return pcm;
  }

  private List<String> events() {
    return sent.stream().map(m -> m.getString("event")).toList();
  }

  private int mulawBytes() {
    return sent.stream().filter(m -> "media".equals(m.getString("event")))
        .mapToInt(m -> Base64.getDecoder().decode(m.getJsonObject("media").getString("payload")).length).sum();
  }

  @Test
  @DisplayName("agent audio becomes μ-law media at 8 kHz for the stream, each chunk followed by a mark of where it ends")
  void mediaAndMarks() {
    playback.event(new AudioStart("t1", Pcm16.DEFAULT_RATE_HZ), null);
    playback.audio(Buffer.buffer(CHUNK));
    playback.audio(Buffer.buffer(CHUNK));
    playback.event(new AudioEnd("t1", 200), null);
    assertEquals(List.of("media", "mark", "media", "mark", "media", "mark"), events());
    sent.forEach(m -> assertEquals(SID, m.getString("streamSid")));
    assertEquals(G711.RATE_HZ * 200 / 1000, mulawBytes(), "200 ms at 8 kHz, one byte a sample, resampler tail included");
    List<String> marks = sent.stream().filter(m -> "mark".equals(m.getString("event")))
        .map(m -> m.getJsonObject("mark").getString("name")).toList();
    assertEquals(List.of("t1:100", "t1:200", "t1:200"), marks);

    TwilioPlayback.Mark second = playback.played("t1:200");
    assertEquals("t1", second.turnId());
    assertEquals(200, second.ms());
    assertNull(playback.played("t1:100"), "an earlier mark is gone once a later one was played");
    assertNull(playback.played("t9:5000"), "a mark the stream never sent");
  }

  @Test
  @DisplayName("an interrupted answer: clear, and the echoes of the cleared marks change nothing")
  void clear() {
    playback.event(new AudioStart("t1", Pcm16.DEFAULT_RATE_HZ), null);
    playback.audio(Buffer.buffer(CHUNK));
    playback.event(new AudioClear("t1"), null);
    playback.audio(Buffer.buffer(CHUNK));
    assertEquals(List.of("media", "mark", "clear"), events(), "nothing after clear until the next answer");
    assertEquals(new JsonObject().put("event", "clear").put("streamSid", SID), sent.get(2));
    assertNull(playback.played("t1:100"));
  }

  @Test
  @DisplayName("a caller that never echoes holds a bounded number of marks")
  void boundedMarks() {
    playback.event(new AudioStart("t1", Pcm16.DEFAULT_RATE_HZ), null);
    for (int i = 0; i < TwilioPlayback.MAX_PENDING_MARKS + 10; i++) {
      playback.audio(Buffer.buffer(CHUNK));
    }
    assertNull(playback.played("t1:100"), "the oldest marks were let go");
    assertEquals((TwilioPlayback.MAX_PENDING_MARKS + 10) * 100L, playback.played("t1:" + (TwilioPlayback.MAX_PENDING_MARKS + 10) * 100).ms());
  }

  @Test
  @DisplayName("start: streamSid, callSid and customParameters; only μ-law at 8 kHz mono")
  void start() {
    JsonObject start = new JsonObject().put("event", "start").put("start", new JsonObject().put("streamSid", SID)
        .put("callSid", "CA1").put("tracks", List.of("inbound"))
        .put("mediaFormat", new JsonObject().put("encoding", "audio/x-mulaw").put("sampleRate", 8000).put("channels", 1))
        .put("customParameters", new JsonObject().put("agent", "default").put("token", "x")));
    TwilioUpgrade.Start parsed = TwilioUpgrade.parseStart(start);
    assertEquals(SID, parsed.streamSid());
    assertEquals("CA1", parsed.callSid());
    assertEquals("default", parsed.parameter("agent"));
    assertNull(parsed.parameter("sessionId"));

    start.getJsonObject("start").getJsonObject("mediaFormat").put("sampleRate", 16000);
    MeshException wrongRate = assertThrows(MeshException.class, () -> TwilioUpgrade.parseStart(start));
    assertTrue(wrongRate.getMessage().contains("8000"), wrongRate.getMessage());
    assertThrows(MeshException.class, () -> TwilioUpgrade.parseStart(new JsonObject().put("event", "start")));
  }
}
