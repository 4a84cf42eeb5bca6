package io.voicemesh.api.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The end-of-turn decision on pauses as Vosk words them. Each timeline is what the recognizer gave
 * in one pause after FreeTTS speech (recorded from the real engines, {@code quietMs:words}): from
 * that much silence on, the words so far were these. The pause lasts {@code pauseMs}, then speech
 * resumes (or, for a turn's last pause, goes on for ever).
 */
@DisplayName("The end-of-turn decision")
class EndOfTurnTest {
  private static final EndOfTurn MEDIUM = new EndOfTurn(EndOfTurn.Eagerness.MEDIUM.minSilenceMs,
      EndOfTurn.Eagerness.MEDIUM.maxSilenceMs);
  private static final long FOREVER = 10_000;

  /** The silence at which the turn ended in this pause, in 20 ms steps; -1 if speech came back first. */
  private static long endedAt(EndOfTurn endOfTurn, long pauseMs, String... timeline) {
    for (long quiet = 20; quiet < pauseMs; quiet += 20) {
      String words = "";
      for (String step : timeline) {
        int colon = step.indexOf(':');
        if (Long.parseLong(step.substring(0, colon)) <= quiet) {
          words = step.substring(colon + 1);
        }
      }
      if (endOfTurn.ended(quiet, words)) {
        return quiet;
      }
    }
    return -1;
  }

  @Test
  @DisplayName("a complete question ends after the minimum silence")
  void completeQuestionEndsSoon() {
    // "calculate eight times nine": settled at 200 ms of silence.
    assertEquals(200, endedAt(MEDIUM, FOREVER, "0:calculate eight times", "200:calculate eight times nine"));
    // "what is the weather like today", worded by Vosk as it heard it.
    assertEquals(200, endedAt(MEDIUM, FOREVER, "0:what is the weather like", "60:what is the way that are like today"));
    // A question that ends on a number is complete.
    assertEquals(200, endedAt(MEDIUM, FOREVER, "0:what as well timed", "200:what as well timed seven"));
  }

  @Test
  @DisplayName("a 600 ms pause after 'and' does not end the turn; the same words end it after the maximum silence")
  void pauseAfterAndContinues() {
    String[] andPause = {"0:what is well timed", "160:what is well timed seven", "200:what is well timed seven and"};
    assertEquals(-1, endedAt(MEDIUM, 600, andPause));
    assertEquals(1_200, endedAt(MEDIUM, FOREVER, andPause));
  }

  @Test
  @DisplayName("words that need a continuation wait: articles, prepositions, fillers, conjunctions, auxiliaries")
  void continuationWordsWait() {
    for (String words : List.of("i want to go to the", "what is the capital of", "i would like to order a pizza with",
        "tell me your job because", "um", "uh", "so", "but", "or", "my name is", "i'm", "what is three hundred and",
        "what is it. And,", "WHAT IS THE")) {
      assertTrue(EndOfTurn.needsContinuation(words), words);
      assertEquals(-1, endedAt(MEDIUM, 1_000, "0:" + words), words);
    }
  }

  @Test
  @DisplayName("a sum or a number left unfinished waits: 'twelve times', 'three hundred', 'two point'")
  void midNumberWaits() {
    for (String words : List.of("what is twelve times", "what is three hundred", "add two plus", "two point",
        "twelve divided")) {
      assertTrue(EndOfTurn.needsContinuation(words), words);
    }
    assertEquals(-1, endedAt(MEDIUM, 600, "0:what is twelve times"));
  }

  @Test
  @DisplayName("words that often end a sentence do not delay it; no words yet wait the maximum")
  void completeEndings() {
    for (String words : List.of("what time is it", "thank you", "what is that", "what is this", "i like that",
        "what does it look like", "okay then", "very well", "no", "yes", "what is two plus two", "hello")) {
      assertFalse(EndOfTurn.needsContinuation(words), words);
    }
    assertFalse(EndOfTurn.needsContinuation(""));
    // Nothing recognized yet (a failover replay opens on the silence before the words): not an end.
    assertEquals(1_200, endedAt(MEDIUM, FOREVER, "0:"));
  }

  @Test
  @DisplayName("a pause that grows: the partial lagging behind the speech is corrected when the recognizer settles")
  void settledWordsDecide() {
    // Without settling, the partial at 200 ms still lacked the "and" Vosk added at 400 ms: judged on
    // it alone, the turn would end at 200 ms, in the middle of the user's sentence.
    assertEquals(200, endedAt(MEDIUM, 600, "0:what is well timed", "160:what is well timed seven",
        "400:what is well timed seven and"));
    // Settled at 200 ms, the words are whole from then on.
    assertEquals(-1, endedAt(MEDIUM, 600, "0:what is well timed", "200:what is well timed seven and"));
  }

  @Test
  @DisplayName("another reading of the audio that stops on a word needing more waits; doubt between complete readings does not")
  void otherReadingsDecide() {
    // Vosk's n-best on FreeTTS speech, 200 ms into the pause (best first). Each pause below came
    // after a continuation word the best reading missed; another reading has it.
    assertEquals(1_200, MEDIUM.silenceNeededMs("how far as it too", List.of("how far is it too", "how far as it to")));
    assertEquals(1_200, MEDIUM.silenceNeededMs("i was thinking arm",
        List.of("i was think an arm", "i was thinking on")));
    assertEquals(1_200, MEDIUM.silenceNeededMs("what is to and blast",
        List.of("what is to and last", "what is to and lost", "what is to and loss", "what is to and plus")));
    assertEquals(1_200, MEDIUM.silenceNeededMs("what is the difference but we",
        List.of("what is the difference between")));
    assertFalse(MEDIUM.ended(600, "i was thinking arm", List.of("i was think an arm", "i was thinking on")));
    // Complete questions: the recognizer doubts which words, but every reading is complete.
    assertEquals(200, MEDIUM.silenceNeededMs("what is the day today", List.of("what is the day to day")));
    assertEquals(200, MEDIUM.silenceNeededMs("while time is it", List.of("what time is it")));
    assertEquals(200, MEDIUM.silenceNeededMs("calculate eight times nine",
        List.of("calculated times nine", "calculate times nine")));
    assertTrue(MEDIUM.ended(200, "what is the day today", List.of("what is the day to day")));
    // The best reading alone still decides when it needs more; no words yet wait the maximum.
    assertEquals(1_200, MEDIUM.silenceNeededMs("what is the weather and", List.of("what is the weather in")));
    assertEquals(1_200, MEDIUM.silenceNeededMs("", List.of()), "no words yet: the speech may only have begun");
    assertEquals(200, MEDIUM.silenceNeededMs("hello there", List.of("", " ")), "empty readings say nothing");
    assertEquals(600, EndOfTurn.silenceOnly(600).silenceNeededMs("how far as it too", List.of("how far as it to")));
  }

  @Test
  @DisplayName("the eagerness levels order the silences; equal silences mean silence alone decides")
  void eagernessAndSilenceOnly() {
    assertTrue(EndOfTurn.Eagerness.HIGH.minSilenceMs < EndOfTurn.Eagerness.MEDIUM.minSilenceMs
        && EndOfTurn.Eagerness.MEDIUM.minSilenceMs < EndOfTurn.Eagerness.LOW.minSilenceMs);
    for (EndOfTurn.Eagerness level : EndOfTurn.Eagerness.values()) {
      assertTrue(level.maxSilenceMs > 600, level + " keeps a 600 ms pause after 'and' in the turn");
    }
    assertEquals(EndOfTurn.Eagerness.AUTO.minSilenceMs, EndOfTurn.Eagerness.MEDIUM.minSilenceMs);
    assertEquals(EndOfTurn.Eagerness.HIGH, EndOfTurn.Eagerness.named("High"));
    assertEquals(null, EndOfTurn.Eagerness.named("eager"));

    EndOfTurn fixed = EndOfTurn.silenceOnly(600);
    assertFalse(fixed.readsWords());
    assertEquals(600, endedAt(fixed, FOREVER, "0:what is well timed seven and"));
    assertEquals(600, endedAt(fixed, FOREVER, "0:what time is it"));

    assertEquals(fixed.toString(), EndOfTurn.forStream(0, 600).toString(), "no minimum given: silence alone");
    assertEquals(fixed.toString(), EndOfTurn.forStream(700, 600).toString());
    assertTrue(EndOfTurn.forStream(200, 600).readsWords());
    assertThrows(IllegalArgumentException.class, () -> new EndOfTurn(0, 600));
    assertThrows(IllegalArgumentException.class, () -> new EndOfTurn(700, 600));
  }
}
