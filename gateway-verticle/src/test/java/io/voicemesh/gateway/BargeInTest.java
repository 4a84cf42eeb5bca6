package io.voicemesh.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.voicemesh.gateway.BargeIn.Action;
import io.voicemesh.gateway.BargeIn.Utterance;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What the user's speech during an answer does to it, from recorded partial-transcript sequences. */
class BargeInTest {
  private final BargeIn bargeIn = new BargeIn(BargeIn.DEFAULT_BACKCHANNELS, 1_000);

  @Test
  void anAcknowledgementPausesAndResumesTheAnswer() {
    assertEquals(Action.PAUSE, bargeIn.speechStarted());
    assertEquals(Action.NONE, bargeIn.partial("yeah"));
    assertTrue(bargeIn.paused());
    assertEquals(Utterance.BACKCHANNEL, bargeIn.finished("yeah"));
    assertFalse(bargeIn.paused());
  }

  @Test
  void aPhraseIsUndecidedHalfWayAndABackchannelWhole() {
    bargeIn.speechStarted();
    assertEquals(Action.NONE, bargeIn.partial("uh"));
    assertEquals(Action.NONE, bargeIn.partial("uh huh"));
    assertEquals(Action.NONE, bargeIn.partial("uh huh okay"));
    assertEquals(Utterance.BACKCHANNEL, bargeIn.finished("Uh-huh, okay."));
    bargeIn.speechStarted();
    assertEquals(Action.NONE, bargeIn.partial("i"), "the start of \"i see\"");
    assertEquals(Utterance.TURN, bargeIn.finished("i"), "but a whole utterance of \"i\" is not one");
  }

  @Test
  void aWordThatIsNotAnAcknowledgementInterrupts() {
    bargeIn.speechStarted();
    assertEquals(Action.NONE, bargeIn.partial("yeah"));
    assertEquals(Action.INTERRUPT, bargeIn.partial("yeah but what"));
    assertEquals(Utterance.TURN, bargeIn.finished("yeah but what about tomorrow"));
  }

  @Test
  void stopRightThereIsNoBackchannelThoughItEndsOnOne() {
    bargeIn.speechStarted();
    assertEquals(Action.INTERRUPT, bargeIn.partial("stop"));
    assertEquals(Utterance.TURN, bargeIn.finished("stop right there"));
  }

  @Test
  void noWordsInTimeIsAFalseInterruption() {
    bargeIn.speechStarted();
    assertEquals(Action.NONE, bargeIn.partial("the"), "noise decoded as a filler");
    assertEquals(Action.RESUME, bargeIn.noWordsDeadline());
    assertEquals(Utterance.NOTHING, bargeIn.finished("the"));
    bargeIn.speechStarted();
    assertEquals(Utterance.NOTHING, bargeIn.finished(""));
  }

  @Test
  void wordsBeforeTheDeadlineKeepItPaused() {
    bargeIn.speechStarted();
    bargeIn.partial("okay");
    assertEquals(Action.NONE, bargeIn.noWordsDeadline(), "an acknowledgement under way is not a false interruption");
    assertTrue(bargeIn.paused());
  }

  @Test
  void withoutFalseInterruptionHandlingSpeechInterruptsAtOnce() {
    BargeIn plain = new BargeIn(List.of(), 0);
    assertEquals(Action.INTERRUPT, plain.speechStarted());
    assertEquals(Action.NONE, plain.partial("yeah"), "nothing paused, nothing to decide");
  }

  @Test
  void theSessionsOwnListReplacesTheDefault() {
    BargeIn custom = new BargeIn(List.of("Mm-hmm", "d'accord"), 1_000);
    custom.speechStarted();
    assertEquals(Action.INTERRUPT, custom.partial("yeah"), "not on this session's list");
    custom.speechStarted();
    assertEquals(Utterance.BACKCHANNEL, custom.finished("d'accord"));
  }
}
