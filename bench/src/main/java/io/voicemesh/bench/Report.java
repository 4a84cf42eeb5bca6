package io.voicemesh.bench;

import java.util.ArrayList;
import java.util.List;

/** The final table: figure | VoiceMesh | baseline | target | met. */
final class Report {
  private static final String[] HEADER = {"figure", "VoiceMesh", "baseline", "target", "met"};
  private final List<String[]> rows = new ArrayList<>();
  private final List<String> failures = new ArrayList<>();

  /** {@code met}: true, false, or null when the row has no target. */
  void row(String figure, String voiceMesh, String baseline, String target, Boolean met) {
    rows.add(new String[] {figure, voiceMesh, baseline, target, met == null ? "" : met ? "yes" : "NO"});
  }

  void failed(String section, Throwable e) {
    String message = section + ": " + e;
    failures.add(message);
    row(section, "FAILED: " + e.getClass().getSimpleName() + ": " + e.getMessage(), "", "", false);
  }

  boolean anyFailed() {
    return !failures.isEmpty();
  }

  String render() {
    int[] width = new int[HEADER.length];
    List<String[]> all = new ArrayList<>();
    all.add(HEADER);
    all.addAll(rows);
    for (String[] row : all) {
      for (int i = 0; i < row.length; i++) {
        width[i] = Math.max(width[i], row[i].length());
      }
    }
    StringBuilder out = new StringBuilder();
    for (int r = 0; r < all.size(); r++) {
      String[] row = all.get(r);
      out.append("| ");
      for (int i = 0; i < row.length; i++) {
        out.append(String.format("%-" + width[i] + "s", row[i])).append(" | ");
      }
      out.setLength(out.length() - 1);
      out.append('\n');
      if (r == 0) {
        out.append('|');
        for (int w : width) {
          out.append("-".repeat(w + 2)).append('|');
        }
        out.append('\n');
      }
    }
    return out.toString();
  }

  static String ms(double millis) {
    return millis >= 100 ? String.format("%.0f ms", millis) : millis >= 10 ? String.format("%.1f ms", millis)
        : millis >= 1 ? String.format("%.2f ms", millis) : String.format("%.3f ms", millis);
  }
}
