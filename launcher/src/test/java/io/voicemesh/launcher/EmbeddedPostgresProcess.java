package io.voicemesh.launcher;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The embedded PostgreSQL of a test mesh as the operating system sees it: its postmaster (the pid in
 * {@code postmaster.pid}) and the processes it forked (backends, checkpointer, …), for tests that
 * kill or stall the database for real.
 */
final class EmbeddedPostgresProcess {
  private final Path data;

  /** {@code dataDir}: the mesh's {@code voicemesh.dataDir}. */
  EmbeddedPostgresProcess(Path dataDir) {
    this.data = dataDir.resolve("postgres");
  }

  long postmasterPid() throws Exception {
    return Long.parseLong(Files.readAllLines(data.resolve("postmaster.pid")).get(0).strip());
  }

  /** kill -9 of the postmaster alone (its backends notice and exit by themselves); returns once it is gone. */
  long kill() throws Exception {
    long pid = postmasterPid();
    ProcessHandle postmaster = ProcessHandle.of(pid).orElseThrow();
    postmaster.destroyForcibly();
    postmaster.onExit().get(10, TimeUnit.SECONDS);
    return pid;
  }

  /** SIGSTOP of the postmaster, then of every process it forked: the whole server stalls. Returns the pids. */
  List<Long> stop() throws Exception {
    long pid = postmasterPid();
    List<Long> pids = new ArrayList<>(List.of(pid));
    signal("STOP", pids, true);
    List<Long> children = ProcessHandle.of(pid).orElseThrow().children().map(ProcessHandle::pid).toList();
    signal("STOP", children, true);
    pids.addAll(children);
    return pids;
  }

  /** SIGCONT of processes {@link #stop} stopped: the children first, so the postmaster finds them running. */
  static void resume(List<Long> pids) throws Exception {
    List<Long> reversed = new ArrayList<>(pids);
    java.util.Collections.reverse(reversed);
    // Not strict: a process that is gone needs no SIGCONT.
    signal("CONT", reversed, false);
  }

  private static void signal(String signal, List<Long> pids, boolean strict) throws Exception {
    if (pids.isEmpty()) {
      return;
    }
    List<String> command = new ArrayList<>(List.of("kill", "-" + signal));
    pids.forEach(p -> command.add(String.valueOf(p)));
    Process kill = new ProcessBuilder(command).redirectErrorStream(true).start();
    if (!kill.waitFor(10, TimeUnit.SECONDS) || strict && kill.exitValue() != 0) {
      throw new IllegalStateException("kill -" + signal + " " + pids + ": " + new String(kill.getInputStream().readAllBytes()));
    }
  }
}
