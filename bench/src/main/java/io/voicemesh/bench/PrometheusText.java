package io.voicemesh.bench;

import java.util.ArrayList;
import java.util.List;

/** A scrape of Prometheus text format, enough to add up a metric's series by name and label. */
final class PrometheusText {
  private record Series(String name, String labels, double value) {
  }

  private final List<Series> series = new ArrayList<>();

  PrometheusText(String text) {
    for (String line : text.split("\n")) {
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      int brace = line.indexOf('{');
      int space = line.lastIndexOf(' ');
      if (space <= 0) {
        continue;
      }
      String name = brace > 0 && brace < space ? line.substring(0, brace) : line.substring(0, space).trim();
      String labels = brace > 0 && brace < space ? line.substring(brace, line.lastIndexOf('}', space) + 1) : "";
      try {
        series.add(new Series(name, labels, Double.parseDouble(line.substring(space + 1).trim())));
      } catch (NumberFormatException notAValue) {
        // a line this reader does not need
      }
    }
  }

  /** The sum of every series of {@code name} whose labels contain each of {@code labelParts} (e.g. {@code area="heap"}). */
  double sum(String name, String... labelParts) {
    double total = 0;
    for (Series s : series) {
      if (s.name().equals(name) && containsAll(s.labels(), labelParts)) {
        total += s.value();
      }
    }
    return total;
  }

  /** Each series of {@code name} as label text → value (e.g. {@code voicemesh_errors_total} by code). */
  java.util.Map<String, Double> byLabels(String name) {
    java.util.Map<String, Double> all = new java.util.TreeMap<>();
    for (Series s : series) {
      if (s.name().equals(name)) {
        all.merge(s.labels(), s.value(), Double::sum);
      }
    }
    return all;
  }

  private static boolean containsAll(String labels, String[] parts) {
    for (String part : parts) {
      if (!labels.contains(part)) {
        return false;
      }
    }
    return true;
  }
}
