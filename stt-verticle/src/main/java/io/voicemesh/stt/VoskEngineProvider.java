package io.voicemesh.stt;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.voicemesh.api.MeshMetrics;
import io.voicemesh.api.audio.Pcm16;
import io.voicemesh.api.engine.SttEngine;
import io.voicemesh.api.engine.SttEngineProvider;
import java.io.IOException;
import java.io.InputStream;
import java.net.JarURLConnection;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Enumeration;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vosk.LibVosk;
import org.vosk.LogLevel;
import org.vosk.Model;

/**
 * {@code vosk}: the embedded Kaldi recognizer. Config: {@code modelPath} (a Vosk model folder), or
 * else the bundled small English model, extracted once into {@code modelCacheDir};
 * {@code idleRecognizers} (default 4): recognizers kept between streams ({@link RecognizerPool});
 * {@code warmup} (default true): one of them decodes a few spoken sentences at start.
 */
public final class VoskEngineProvider implements SttEngineProvider {
  static final String BUNDLED_MODEL = "voicemesh/vosk-model-en-us";
  /** The folder the bundled model is extracted to; a new name when the copy changes, so old copies are not used. */
  private static final String BUNDLED_VERSION = "vosk-model-en-us-0.3.45-lattice-3";
  /** Copies earlier versions extracted; deleted once the current one is in place (70 MB each). */
  private static final List<String> EARLIER_VERSIONS = List.of("vosk-model-en-us-0.3.45");
  /**
   * The bundled model's lattice beam, widened from the 2.0 it ships with. End of turn reads the
   * recognizer's other readings of a pause (its n-best, {@link VoskEngine#READINGS}), and with
   * 2.0 the reading that ends on the word said was often pruned: on the turn-end bench's FreeTTS
   * utterances, 8 of 192 pauses after "um" had no other reading at all ("i was thinking arm"), and
   * none with 3.0, which gave no complete question a doubtful reading and decoded as fast. The top
   * reading does not depend on it; Vosk's minimum-Bayes-risk wording of the other results can, and
   * the test suite's transcripts held with it.
   */
  static final String LATTICE_BEAM = "--lattice-beam=3.0";
  static final int DEFAULT_IDLE_RECOGNIZERS = 4;
  private static final Logger LOG = LoggerFactory.getLogger(VoskEngineProvider.class);

  @Override
  public String name() {
    return "vosk";
  }

  @Override
  public SttEngine create(Vertx vertx, JsonObject config) throws IOException {
    int idleRecognizers = config.getInteger("idleRecognizers", DEFAULT_IDLE_RECOGNIZERS);
    if (idleRecognizers < 0) {
      throw new IllegalArgumentException("stt.vosk.idleRecognizers must be 0 or more, not " + idleRecognizers);
    }
    Path model = config.containsKey("modelPath")
        ? Path.of(config.getString("modelPath"))
        : extractBundledModel(Path.of(config.getString("modelCacheDir",
            System.getProperty("java.io.tmpdir") + "/voicemesh-models")));
    LibVosk.setLogLevel(LogLevel.WARNINGS);
    long started = System.nanoTime();
    Model loaded = new Model(model.toString());
    LOG.info("Vosk model {} loaded in {} ms", model, (System.nanoTime() - started) / 1_000_000);
    RecognizerPool recognizers = new RecognizerPool(loaded, idleRecognizers);
    MeshMetrics.warmRecognizers(recognizers::warmIdle);
    MeshMetrics.busyRecognizers(recognizers::busy);
    if (idleRecognizers > 0) {
      recognizers.prepare(Pcm16.DEFAULT_RATE_HZ);
      if (config.getBoolean("warmup", true)) {
        warmInBackground(recognizers);
      }
    }
    return new VoskEngine(loaded, recognizers);
  }

  /**
   * Warms the prepared recognizer with a few spoken sentences, off the start-up path: a recognizer
   * that has decoded speech decodes the next seconds several times faster ({@link RecognizerPool}).
   */
  private static void warmInBackground(RecognizerPool recognizers) {
    Thread warming = new Thread(() -> WarmupSpeech.make().ifPresent(speech -> {
      long started = System.nanoTime();
      try {
        recognizers.warm(speech.pcm(), speech.rateHz());
        LOG.info("a recognizer warmed with {} ms of speech in {} ms", speech.pcm().length / 2 * 1000L / speech.rateHz(),
            (System.nanoTime() - started) / 1_000_000);
      } catch (IOException | RuntimeException e) {
        LOG.warn("recognizer warm-up failed; streams start cold: {}", e.toString());
      }
    }), "vosk-warmup");
    warming.setDaemon(true);
    warming.setPriority(Thread.MIN_PRIORITY);
    warming.start();
  }

  /** Copies the model out of the classpath once; a marker file says the copy is complete. */
  static Path extractBundledModel(Path cacheDir) throws IOException {
    Path target = cacheDir.resolve(BUNDLED_VERSION);
    Path marker = target.resolve(".complete");
    if (Files.exists(marker)) {
      return target;
    }
    URL root = VoskEngineProvider.class.getClassLoader().getResource(BUNDLED_MODEL + "/README");
    if (root == null) {
      throw new IOException("the bundled Vosk model is missing from the classpath; set stt.vosk.modelPath");
    }
    Path partial = Files.createDirectories(cacheDir).resolve(BUNDLED_VERSION + ".partial-" + ProcessHandle.current().pid());
    if (root.getProtocol().equals("jar")) {
      copyFromJar((JarURLConnection) root.openConnection(), partial);
    } else {
      copyFromFolder(folderOf(root), partial);
    }
    widenLattice(partial.resolve("conf").resolve("model.conf"));
    Files.createFile(partial.resolve(".complete"));
    try {
      Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException raced) {
      // Another process finished first: its copy is as good as ours.
      if (!Files.exists(marker)) {
        throw raced;
      }
      deleteTree(partial);
    }
    for (String earlier : EARLIER_VERSIONS) {
      Path old = cacheDir.resolve(earlier);
      if (Files.exists(old)) {
        LOG.info("deleting {}: the bundled model is now extracted to {}", old, target);
        try {
          deleteTree(old);
        } catch (IOException e) {
          LOG.warn("could not delete {}: {}", old, e.toString());
        }
      }
    }
    return target;
  }

  /** Sets the lattice beam of a model's decoding options to {@link #LATTICE_BEAM}. */
  static void widenLattice(Path modelConf) throws IOException {
    Files.write(modelConf, Stream.concat(Files.readAllLines(modelConf).stream()
        .filter(line -> !line.startsWith("--lattice-beam=")), Stream.of(LATTICE_BEAM)).toList());
  }

  private static void copyFromJar(JarURLConnection connection, Path target) throws IOException {
    connection.setUseCaches(false);
    try (JarFile jar = connection.getJarFile()) {
      Enumeration<JarEntry> entries = jar.entries();
      while (entries.hasMoreElements()) {
        JarEntry entry = entries.nextElement();
        if (entry.isDirectory() || !entry.getName().startsWith(BUNDLED_MODEL + "/")) {
          continue;
        }
        Path out = target.resolve(entry.getName().substring(BUNDLED_MODEL.length() + 1)).normalize();
        if (!out.startsWith(target)) {
          throw new IOException("bad entry " + entry.getName());
        }
        Files.createDirectories(out.getParent());
        try (InputStream in = jar.getInputStream(entry)) {
          Files.copy(in, out, StandardCopyOption.REPLACE_EXISTING);
        }
      }
    }
  }

  private static void copyFromFolder(Path source, Path target) throws IOException {
    try (Stream<Path> files = Files.walk(source)) {
      for (Path file : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator) {
        Path out = target.resolve(source.relativize(file).toString());
        Files.createDirectories(out.getParent());
        Files.copy(file, out, StandardCopyOption.REPLACE_EXISTING);
      }
    }
  }

  private static Path folderOf(URL readme) throws IOException {
    try {
      return Path.of(readme.toURI()).getParent();
    } catch (URISyntaxException e) {
      throw new IOException(e);
    }
  }

  private static void deleteTree(Path root) throws IOException {
    try (Stream<Path> files = Files.walk(root)) {
      for (Path p : (Iterable<Path>) files.sorted((a, b) -> b.compareTo(a))::iterator) {
        Files.deleteIfExists(p);
      }
    }
  }
}
