package io.voicemesh.launcher;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/**
 * The oldest Netty and logback releases VoiceMesh may ship: the ones with the fixes for the CVEs
 * known in Netty up to 4.2.17 (http, http2, compression, the TLS hostname check) and in logback up
 * to 1.5.34. Newer is fine; older means a dependency brought an old one back past the pins in the
 * parent pom.
 */
final class DependencyVersions {
  static final String MIN_NETTY = "4.2.18.Final";
  static final String MIN_LOGBACK = "1.5.38";

  private DependencyVersions() {
  }

  /** Whether {@code version} is {@code minimum} or later, comparing the numeric parts (4.2.18.Final → 4, 2, 18). */
  static boolean atLeast(String version, String minimum) {
    int[] have = numbers(version);
    int[] need = numbers(minimum);
    for (int i = 0; i < Math.max(have.length, need.length); i++) {
      int a = i < have.length ? have[i] : 0;
      int b = i < need.length ? need[i] : 0;
      if (a != b) {
        return a > b;
      }
    }
    return true;
  }

  private static int[] numbers(String version) {
    String[] parts = version.split("[.-]");
    int count = 0;
    while (count < parts.length && parts[count].matches("\\d+")) {
      count++;
    }
    if (count == 0) {
      throw new IllegalArgumentException("not a version: " + version);
    }
    int[] numbers = new int[count];
    for (int i = 0; i < count; i++) {
      numbers[i] = Integer.parseInt(parts[i]);
    }
    return numbers;
  }

  /** The {@code version} of a Maven {@code pom.properties}. */
  static String pomVersion(InputStream pomProperties) throws IOException {
    Properties properties = new Properties();
    properties.load(pomProperties);
    return properties.getProperty("version");
  }
}
