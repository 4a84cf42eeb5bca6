package io.voicemesh.bench;

import java.lang.management.ManagementFactory;

/**
 * Figure 5: heap used (after full GCs) with no sessions, with {@code n} idle connected sessions,
 * and with the same sessions streaming audio. The client runs in this JVM too, so the figures
 * include the client's side of each connection; the echo baseline shows what a bare WebSocket
 * connection (both ends) costs.
 */
final class MemoryPerSession {
  record Result(int sessions, int failed, long baseBytes, long idleBytes, long activeBytes) {
    long perIdleSession() {
      return sessions == 0 ? 0 : (idleBytes - baseBytes) / sessions;
    }

    long perActiveSession() {
      return sessions == 0 ? 0 : (activeBytes - baseBytes) / sessions;
    }

    @Override
    public String toString() {
      return String.format("%d sessions%s: heap %.1f MB with none, %.1f MB idle, %.1f MB streaming"
              + " -> %.1f KB per idle session, %.1f KB per active session",
          sessions, failed == 0 ? "" : " (" + failed + " failed to connect)", baseBytes / 1048576.0,
          idleBytes / 1048576.0, activeBytes / 1048576.0, perIdleSession() / 1024.0, perActiveSession() / 1024.0);
    }
  }

  private MemoryPerSession() {
  }

  static Result measure(LoadClient client, int port, String uri, LoadClient.Protocol protocol, int n,
      long activeMs) throws Exception {
    long base = heapAfterGc();
    LoadClient.Connected connected = client.connect(port, uri, n, protocol);
    try {
      long idle = heapAfterGc();
      LoadClient.Streaming streaming = client.startStreaming(connected.sessions());
      long active;
      try {
        Thread.sleep(activeMs); // pacing: let every session's STT stream open and fill its buffers
        active = heapAfterGc();
      } finally {
        streaming.stop();
      }
      return new Result(connected.sessions().size(), connected.failed(), base, idle, active);
    } finally {
      client.closeAll(connected.sessions());
    }
  }

  /** The lowest heap use seen right after each of three full collections. */
  static long heapAfterGc() throws InterruptedException {
    long lowest = Long.MAX_VALUE;
    for (int i = 0; i < 3; i++) {
      System.gc();
      Thread.sleep(100);
      lowest = Math.min(lowest, ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
    }
    return lowest;
  }
}
