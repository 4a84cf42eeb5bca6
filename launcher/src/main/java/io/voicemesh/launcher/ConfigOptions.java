package io.voicemesh.launcher;

import java.io.File;
import java.util.HashMap;
import java.util.Map;
import picocli.CommandLine.Option;

/** The options of every command that reads the configuration: the settings file and the data folder. */
public final class ConfigOptions {

  @Option(names = "--config", paramLabel = "FILE", description = "HOCON or JSON file with voicemesh.* settings")
  File configFile;

  @Option(names = "--data-dir", paramLabel = "DIR", description = "where embedded PostgreSQL, models and keys live "
      + "(default ./voicemesh-data)")
  File dataDir;

  /** The configuration with these options on top, and {@code overrides} above them. */
  public MeshConfig load(Map<String, Object> overrides) {
    Map<String, Object> all = new HashMap<>(overrides);
    if (dataDir != null) {
      all.put("voicemesh.dataDir", dataDir.getPath());
    }
    return MeshConfig.load(configFile, all);
  }
}
