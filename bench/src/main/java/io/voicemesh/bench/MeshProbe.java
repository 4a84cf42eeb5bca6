package io.voicemesh.bench;

import com.sun.tools.attach.VirtualMachine;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;

/**
 * Samples the mesh child JVM: a full GC first (unless told not to; over JMX, attached with the JDK's attach API and the
 * JVM's local management agent; no port is opened), then its {@code /metrics} and {@code /proc}.
 */
final class MeshProbe implements AutoCloseable {
  private static final double MB = 1024.0 * 1024.0;

  /** One sample; memory in MB, cpu in seconds since the mesh started. */
  record Sample(double minutes, String phase, double heapMb, double nonHeapMb, double rssMb, double postgresPssMb,
      int threads, int javaThreads, int openFiles, int busHandlers, int httpConnections, int gatewaySessions,
      int sttStreams, double cpuSeconds, double clientOpen, long gcMs) {
  }

  /** When the bench paused the mesh for a forced GC (or a class histogram), in epoch ms. */
  record Pause(long fromMs, long toMs) {
  }

  private final MeshChild mesh;
  private final JMXConnector jmx;
  private final MBeanServerConnection server;
  private final long startedNanos;
  private final boolean forceGc;
  private final List<Pause> pauses = new java.util.concurrent.CopyOnWriteArrayList<>();

  MeshProbe(MeshChild mesh, long startedNanos, boolean forceGc) throws Exception {
    this.mesh = mesh;
    this.forceGc = forceGc;
    this.startedNanos = startedNanos;
    VirtualMachine vm = VirtualMachine.attach(Long.toString(mesh.pid()));
    String address;
    try {
      address = vm.startLocalManagementAgent();
    } finally {
      vm.detach();
    }
    jmx = JMXConnectorFactory.connect(new JMXServiceURL(address));
    server = jmx.getMBeanServerConnection();
  }

  /** A full GC in the mesh JVM ({@code System.gc()}), so that the heap read next is what is still reachable. */
  long gc() throws IOException {
    long from = System.currentTimeMillis();
    ManagementFactory.newPlatformMXBeanProxy(server, ManagementFactory.MEMORY_MXBEAN_NAME, MemoryMXBean.class).gc();
    long to = System.currentTimeMillis();
    pauses.add(new Pause(from, to));
    return to - from;
  }

  /** Every forced GC and histogram so far. */
  List<Pause> pauses() {
    return List.copyOf(pauses);
  }

  /** {@code GC.class_histogram} of the mesh JVM (it runs a full GC first). */
  ClassHistogram histogram() throws Exception {
    long from = System.currentTimeMillis();
    Object text = server.invoke(new ObjectName("com.sun.management:type=DiagnosticCommand"), "gcClassHistogram",
        new Object[] {new String[0]}, new String[] {String[].class.getName()});
    pauses.add(new Pause(from, System.currentTimeMillis()));
    return ClassHistogram.parse(String.valueOf(text));
  }

  Sample sample(String phase, int clientOpen) throws Exception {
    long gcMs = forceGc ? gc() : 0;
    PrometheusText m = mesh.metrics();
    long pid = mesh.pid();
    double postgres = 0;
    for (ProcessHandle child : mesh.postgres()) {
      postgres += pssKb(child.pid()) / 1024.0;
    }
    return new Sample((System.nanoTime() - startedNanos) / 60e9, phase,
        m.sum("jvm_memory_used_bytes", "area=\"heap\"") / MB, m.sum("jvm_memory_used_bytes", "area=\"nonheap\"") / MB,
        statusKb(pid, "VmRSS:") / 1024.0, postgres, (int) statusKb(pid, "Threads:"),
        (int) m.sum("jvm_threads_live_threads"), openFiles(pid), (int) m.sum("vertx_eventbus_handlers"),
        (int) m.sum("vertx_http_server_active_connections"), (int) m.sum("voicemesh_sessions", "role=\"gateway\""),
        (int) m.sum("voicemesh_sessions", "role=\"stt\""), m.sum("process_cpu_time_ns_total") / 1e9, clientOpen, gcMs);
  }

  /** A field of {@code /proc/<pid>/status} (kB for memory, a count for Threads), 0 if unreadable. */
  static long statusKb(long pid, String field) {
    return procField(Path.of("/proc", Long.toString(pid), "status"), field);
  }

  /** Proportional set size: shared pages (PostgreSQL's shared buffers) divided among the processes that map them. */
  static long pssKb(long pid) {
    return procField(Path.of("/proc", Long.toString(pid), "smaps_rollup"), "Pss:");
  }

  private static long procField(Path file, String field) {
    try {
      for (String line : Files.readAllLines(file)) {
        if (line.startsWith(field)) {
          return Long.parseLong(line.substring(field.length()).trim().split("\\s+")[0]);
        }
      }
    } catch (IOException | RuntimeException gone) {
      // the process ended, or this is not Linux
    }
    return 0;
  }

  private static int openFiles(long pid) {
    try (var files = Files.list(Path.of("/proc", Long.toString(pid), "fd"))) {
      return (int) files.count();
    } catch (IOException e) {
      return 0;
    }
  }

  @Override
  public void close() throws IOException {
    jmx.close();
  }

  static List<String> tableHeader() {
    return List.of("min", "phase", "heap MB", "non-heap MB", "RSS MB", "PG PSS MB", "threads", "java thr", "fds",
        "bus handlers", "http conns", "gw sessions", "stt streams", "CPU %", "client open", "GC ms");
  }
}
