package io.voicemesh.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** What the shade plugin put into launcher/target/voicemesh.jar: no Netty or logback with known CVEs. */
@DisplayName("The fat jar's Netty and logback")
class FatJarDependenciesIT {

  @Test
  @DisplayName("every Netty artifact in voicemesh.jar is 4.2.18.Final or newer, logback 1.5.38 or newer")
  void noKnownVulnerableVersions() throws Exception {
    Path jar = Path.of(System.getProperty("voicemesh.jar", "target/voicemesh.jar"));
    assertTrue(Files.isRegularFile(jar), "the fat jar exists: " + jar.toAbsolutePath());
    Map<String, String> netty = new TreeMap<>();
    Map<String, String> logback = new TreeMap<>();
    try (JarFile file = new JarFile(jar.toFile())) {
      for (JarEntry entry : java.util.Collections.list(file.entries())) {
        String name = entry.getName();
        if (!name.endsWith("/pom.properties")) {
          continue;
        }
        Map<String, String> into = name.startsWith("META-INF/maven/io.netty/") ? netty
            : name.startsWith("META-INF/maven/ch.qos.logback/") ? logback : null;
        if (into != null) {
          try (InputStream in = file.getInputStream(entry)) {
            into.put(name.split("/")[3], DependencyVersions.pomVersion(in));
          }
        }
      }
    }
    assertTrue(netty.keySet().containsAll(java.util.List.of("netty-common", "netty-handler", "netty-codec-http",
        "netty-codec-http2", "netty-codec-compression")), "Netty in the jar: " + netty);
    assertTrue(logback.keySet().containsAll(java.util.List.of("logback-classic", "logback-core")), "logback: " + logback);
    Map<String, String> old = new TreeMap<>();
    netty.forEach((artifact, version) -> {
      if (!DependencyVersions.atLeast(version, DependencyVersions.MIN_NETTY)) {
        old.put(artifact, version);
      }
    });
    logback.forEach((artifact, version) -> {
      if (!DependencyVersions.atLeast(version, DependencyVersions.MIN_LOGBACK)) {
        old.put(artifact, version);
      }
    });
    assertEquals(Map.of(), old, "older than Netty " + DependencyVersions.MIN_NETTY + " / logback "
        + DependencyVersions.MIN_LOGBACK + "; all: " + netty + " " + logback);
    System.out.println("voicemesh.jar: " + netty + " " + logback);
  }
}
