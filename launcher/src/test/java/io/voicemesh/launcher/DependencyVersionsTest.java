package io.voicemesh.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.util.Version;
import java.io.InputStream;
import java.net.URL;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The launcher's class path (what the fat jar is made of) holds no Netty or logback older than the
 * releases with the known CVE fixes; {@code FatJarDependenciesIT} checks the jar itself.
 */
@DisplayName("Dependency versions on the class path")
class DependencyVersionsTest {

  @Test
  @DisplayName("every Netty module is 4.2.18.Final or newer")
  void netty() {
    Map<String, Version> modules = Version.identify();
    for (String needed : List.of("netty-common", "netty-buffer", "netty-transport", "netty-handler", "netty-codec-http",
        "netty-codec-http2", "netty-codec-compression", "netty-resolver-dns")) {
      assertTrue(modules.containsKey(needed), "Netty reports " + needed + ": " + modules.keySet());
    }
    Map<String, String> old = new TreeMap<>();
    modules.forEach((module, version) -> {
      if (!DependencyVersions.atLeast(version.artifactVersion(), DependencyVersions.MIN_NETTY)) {
        old.put(module, version.artifactVersion());
      }
    });
    assertEquals(Map.of(), old, "Netty modules older than " + DependencyVersions.MIN_NETTY);
  }

  @Test
  @DisplayName("logback-classic and logback-core are 1.5.38 or newer, and only one copy of each is there")
  void logback() throws Exception {
    for (String artifact : List.of("logback-classic", "logback-core")) {
      List<URL> copies = Collections.list(getClass().getClassLoader()
          .getResources("META-INF/maven/ch.qos.logback/" + artifact + "/pom.properties"));
      assertEquals(1, copies.size(), artifact + " on the class path: " + copies);
      List<String> versions = new ArrayList<>();
      for (URL copy : copies) {
        try (InputStream in = copy.openStream()) {
          versions.add(DependencyVersions.pomVersion(in));
        }
      }
      assertTrue(DependencyVersions.atLeast(versions.get(0), DependencyVersions.MIN_LOGBACK), artifact + " " + versions);
    }
  }

  @Test
  @DisplayName("the version comparison orders releases by their numbers, not as text")
  void comparison() {
    assertTrue(DependencyVersions.atLeast("4.2.18.Final", "4.2.18.Final"));
    assertTrue(DependencyVersions.atLeast("4.2.100.Final", "4.2.18.Final"));
    assertTrue(DependencyVersions.atLeast("4.3.0.Final", "4.2.18.Final"));
    assertFalse(DependencyVersions.atLeast("4.2.9.Final", "4.2.18.Final"));
    assertFalse(DependencyVersions.atLeast("4.1.135.Final", "4.2.18.Final"));
    assertFalse(DependencyVersions.atLeast("1.5.18", "1.5.38"));
    assertTrue(DependencyVersions.atLeast("1.6.6", "1.5.38"));
  }
}
