package io.voicemesh.llm;

import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

/** Reads numbers the way speech recognizers write them: "one hundred and twelve", or digits. */
final class SpokenNumbers {
  private static final Map<String, Integer> UNITS = Map.ofEntries(
      Map.entry("zero", 0), Map.entry("oh", 0), Map.entry("one", 1), Map.entry("two", 2), Map.entry("three", 3),
      Map.entry("four", 4), Map.entry("five", 5), Map.entry("six", 6), Map.entry("seven", 7), Map.entry("eight", 8),
      Map.entry("nine", 9), Map.entry("ten", 10), Map.entry("eleven", 11), Map.entry("twelve", 12),
      Map.entry("thirteen", 13), Map.entry("fourteen", 14), Map.entry("fifteen", 15), Map.entry("sixteen", 16),
      Map.entry("seventeen", 17), Map.entry("eighteen", 18), Map.entry("nineteen", 19), Map.entry("twenty", 20),
      Map.entry("thirty", 30), Map.entry("forty", 40), Map.entry("fifty", 50), Map.entry("sixty", 60),
      Map.entry("seventy", 70), Map.entry("eighty", 80), Map.entry("ninety", 90));
  private static final Map<String, Long> SCALES = Map.of("thousand", 1_000L, "million", 1_000_000L);
  private static final long MAX = 1_000_000_000_000L;

  private SpokenNumbers() {
  }

  /** The number the words spell, or empty when they are not exactly one number. */
  static OptionalLong parse(List<String> words) {
    if (words.size() == 1 && words.get(0).matches("-?\\d{1,12}")) {
      return OptionalLong.of(Long.parseLong(words.get(0)));
    }
    long total = 0;
    long current = 0;
    boolean any = false;
    for (String raw : words) {
      for (String word : raw.split("-")) {
        if (word.equals("and") && any) {
          continue;
        }
        if (word.matches("\\d{1,9}")) {
          current += Long.parseLong(word);
        } else if (UNITS.containsKey(word)) {
          current += UNITS.get(word);
        } else if (word.equals("hundred") && any) {
          current = Math.max(current, 1) * 100;
        } else if (SCALES.containsKey(word) && any) {
          total += Math.max(current, 1) * SCALES.get(word);
          current = 0;
        } else {
          return OptionalLong.empty();
        }
        any = true;
        if (total + current > MAX) {
          return OptionalLong.empty();
        }
      }
    }
    return any ? OptionalLong.of(total + current) : OptionalLong.empty();
  }
}
