package io.voicemesh.bench;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import io.vertx.core.internal.threadchecker.BlockedThreadChecker;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.LoggerFactory;

/** Sends every log line to a file (stdout is the report) and counts Vert.x blocked-thread warnings. */
final class BenchLogs {
  private static final AtomicLong BLOCKED = new AtomicLong();

  private BenchLogs() {
  }

  /** Call before anything logs. */
  static void install(Path file) {
    System.setProperty("voicemesh.bench.log", file.toString());
    System.setProperty("logback.configurationFile", "bench-logback.xml");
    AppenderBase<ILoggingEvent> counter = new AppenderBase<>() {
      @Override
      protected void append(ILoggingEvent event) {
        BLOCKED.incrementAndGet();
      }
    };
    counter.start();
    ((Logger) LoggerFactory.getLogger(BlockedThreadChecker.LOGGER_NAME)).addAppender(counter);
  }

  static long blockedThreadWarnings() {
    return BLOCKED.get();
  }
}
