package io.voicemesh.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.vertx.core.Promise;
import io.voicemesh.api.ErrorCode;
import io.voicemesh.api.MeshException;
import io.voicemesh.api.message.SynthesizeDone;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("The synthesis of a turn's sentences")
class SentenceSynthesisTest {
  private final List<String> outcomes = new ArrayList<>();
  /** Each tts.synthesize sent: "index:text", and its reply. */
  private final List<String> requests = new ArrayList<>();
  private final List<Promise<SynthesizeDone>> replies = new ArrayList<>();

  private final SentenceSynthesis synthesis = new SentenceSynthesis((index, text) -> {
    requests.add(index + ":" + text);
    Promise<SynthesizeDone> reply = Promise.promise();
    replies.add(reply);
    return reply.future();
  }, new SentenceSynthesis.Listener() {
    @Override
    public void sentenceSynthesized(int index, SynthesizeDone done) {
      outcomes.add(index + " spoken in " + done.chunks() + " chunks");
    }

    @Override
    public void sentenceFailed(int index, MeshException error) {
      outcomes.add(index + " failed: " + error.code().wire());
    }

    @Override
    public void synthesisFellBack(String warning) {
      outcomes.add("warning: " + warning);
    }
  });

  private static SynthesizeDone done(int chunks, String node, String warning) {
    return new SynthesizeDone(chunks, 16_000, chunks * 100L, node, warning, List.of());
  }

  @Test
  @DisplayName("numbers sentences in order and reports each once; a fallback is reported once per turn")
  void numbers() {
    assertEquals(0, synthesis.speak("One."));
    assertEquals(1, synthesis.speak("Two."));
    replies.get(1).complete(done(3, "tts-b", "fell back"));
    replies.get(0).complete(done(2, "tts-a", "fell back"));
    assertEquals(List.of("0:One.", "1:Two."), requests);
    assertEquals(List.of("warning: fell back", "1 spoken in 3 chunks", "0 spoken in 2 chunks"), outcomes);
    assertEquals(List.of("tts-b", "tts-a"), synthesis.nodes());
    assertEquals(2, synthesis.count());
  }

  @Test
  @DisplayName("an unavailable engine is tried once more, then the sentence fails")
  void retriesOnce() {
    synthesis.speak("One.");
    replies.get(0).fail(new MeshException(ErrorCode.ENGINE_UNAVAILABLE, "gone"));
    assertEquals(List.of("0:One.", "0:One."), requests);
    replies.get(1).fail(new MeshException(ErrorCode.ENGINE_UNAVAILABLE, "gone again"));
    assertEquals(List.of("0 failed: engine_unavailable"), outcomes);
  }

  @Test
  @DisplayName("a bad request is not retried")
  void noRetryOnBadRequest() {
    synthesis.speak("One.");
    replies.get(0).fail(new MeshException(ErrorCode.BAD_REQUEST, "no"));
    assertEquals(1, requests.size());
    assertEquals(List.of("0 failed: bad_request"), outcomes);
  }

  @Test
  @DisplayName("a lost node's sentences, and those not placed yet, go again; the lost attempt's late reply is ignored")
  void nodeLeft() {
    synthesis.speak("One.");
    synthesis.speak("Two.");
    synthesis.speak("Three.");
    synthesis.chunkFrom(0, "tts-a");
    synthesis.chunkFrom(1, "tts-b");
    synthesis.nodeLeft("tts-a");
    assertEquals(List.of("0:One.", "1:Two.", "2:Three.", "0:One.", "2:Three."), requests);
    replies.get(3).complete(done(4, "tts-c", null));
    replies.get(0).complete(done(1, "tts-a", null));
    assertEquals(List.of("0 spoken in 4 chunks"), outcomes, "sentence 0 ends once, by the retry");
  }

  @Test
  @DisplayName("once stopped, a failed sentence is not tried again")
  void stopped() {
    synthesis.speak("One.");
    synthesis.stop();
    replies.get(0).fail(new MeshException(ErrorCode.ENGINE_UNAVAILABLE, "gone"));
    assertEquals(1, requests.size());
    assertEquals(List.of("0 failed: engine_unavailable"), outcomes);
  }
}
