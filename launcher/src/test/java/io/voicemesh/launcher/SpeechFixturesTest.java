package io.voicemesh.launcher;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The words other tests rely on survive FreeTTS → Vosk. FreeTTS's kevin16 voice is rough (about
 * 11 % word errors with Vosk's small model), so each phrase is checked for the words that matter.
 */
@DisplayName("The phrases the tests speak keep their key words through FreeTTS and Vosk")
class SpeechFixturesTest {
  @ParameterizedTest(name = "\"{0}\" is heard with \"{1}\"")
  @CsvSource(delimiter = '|', value = {
      "what time is it | time is it",
      "calculate eight times nine | eight times nine",
      "hello there | hello there",
      "the time is six fifteen p m | time is six fifteen",
      "eight times nine is seventy two | seventy two"})
  void roundTrip(String phrase, String keyWords) throws Exception {
    String heard = Speech.transcribe(Speech.say(phrase));
    assertTrue(heard.contains(keyWords), "said \"" + phrase + "\", heard \"" + heard + "\"");
  }
}
