package io.voicemesh.bench;

/**
 * A least-squares line through (x, y) points: its slope and the slope's 95 % confidence half-width
 * (1.96 standard errors; a rough bound, since successive samples of a process are not independent).
 */
record Trend(double slope, double halfWidth95, int points) {
  static Trend of(double[] x, double[] y) {
    int n = x.length;
    if (n < 3) {
      return new Trend(Double.NaN, Double.NaN, n);
    }
    double mx = 0;
    double my = 0;
    for (int i = 0; i < n; i++) {
      mx += x[i];
      my += y[i];
    }
    mx /= n;
    my /= n;
    double sxx = 0;
    double sxy = 0;
    for (int i = 0; i < n; i++) {
      sxx += (x[i] - mx) * (x[i] - mx);
      sxy += (x[i] - mx) * (y[i] - my);
    }
    if (sxx == 0) {
      return new Trend(Double.NaN, Double.NaN, n);
    }
    double slope = sxy / sxx;
    double residuals = 0;
    for (int i = 0; i < n; i++) {
      double r = y[i] - (my + slope * (x[i] - mx));
      residuals += r * r;
    }
    double standardError = Math.sqrt(residuals / (n - 2) / sxx);
    return new Trend(slope, 1.96 * standardError, n);
  }

  /** Whether the slope is above zero by more than its uncertainty. */
  boolean risesSignificantly() {
    return !Double.isNaN(slope) && slope - halfWidth95 > 0;
  }

  String describe(String unit) {
    return Double.isNaN(slope) ? "- (" + points + " samples)"
        : String.format("%+.2f ± %.2f %s (%d samples)", slope, halfWidth95, unit, points);
  }
}
