package io.voicemesh.launcher;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Ports for a server that starts later, in another process or after other work. {@code bind(0)}
 * hands out a port from the kernel's ephemeral range, the range outgoing connections take their
 * local ports from, so in the seconds before the server binds it a connection can take it: a
 * ClusterIT node exited with "Address already in use" while the other members connected to each
 * other. These ports come from below that range, are checked free, and are handed out once per JVM.
 */
final class LoopbackPorts {
  private static final int SPAN = 10_000;
  private static final Set<Integer> HANDED_OUT = ConcurrentHashMap.newKeySet();

  private LoopbackPorts() {
  }

  /** A port free now on 127.0.0.1 that no connection's local port will take. */
  static int free() {
    int below = ephemeralLow();
    int first = Math.max(1_024, below - SPAN);
    int start = ThreadLocalRandom.current().nextInt(first, below);
    for (int i = 0; i < below - first; i++) {
      int port = first + (start - first + i) % (below - first);
      if (isFree(port) && HANDED_OUT.add(port)) {
        return port;
      }
    }
    throw new IllegalStateException("no free port in " + first + "-" + (below - 1));
  }

  private static boolean isFree(int port) {
    try (ServerSocket socket = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
      return true;
    } catch (IOException taken) {
      return false;
    }
  }

  /** The low end of the kernel's ephemeral port range (Linux); 32768, its default, elsewhere. */
  private static int ephemeralLow() {
    try {
      // Not Files.readString: it trusts the size procfs reports and read "3" of "32768 60999".
      int low = Integer.parseInt(Files.readAllLines(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).get(0).trim()
          .split("\\s+")[0]);
      return low > 2_048 ? low : 32_768;
    } catch (IOException | RuntimeException unknown) {
      return 32_768;
    }
  }
}
