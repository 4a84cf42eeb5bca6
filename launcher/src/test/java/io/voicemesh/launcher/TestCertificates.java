package io.voicemesh.launcher;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Self-signed certificates made for a test with the JDK's keytool, written as PEM files. */
final class TestCertificates {
  private static final char[] PASSWORD = "test-only".toCharArray();

  /** A certificate (which is also its own CA: trust it to trust the server) and its PKCS#8 key. */
  record Pem(Path certificate, Path key) {
  }

  private TestCertificates() {
  }

  /** A fresh RSA key and a two-day certificate for {@code san} (keytool's form, e.g. {@code ip:127.0.0.1,dns:localhost}). */
  static Pem selfSigned(Path dir, String name, String san) throws Exception {
    Files.createDirectories(dir);
    Path keystore = dir.resolve(name + ".p12");
    Files.deleteIfExists(keystore);
    Process keytool = new ProcessBuilder(List.of(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
        "-genkeypair", "-alias", name, "-keyalg", "RSA", "-keysize", "2048", "-validity", "2",
        "-dname", "CN=" + name, "-ext", "SAN=" + san, "-keystore", keystore.toString(), "-storetype", "PKCS12",
        "-storepass", new String(PASSWORD), "-keypass", new String(PASSWORD)))
        .redirectErrorStream(true).start();
    byte[] output = keytool.getInputStream().readAllBytes();
    if (!keytool.waitFor(60, TimeUnit.SECONDS) || keytool.exitValue() != 0) {
      throw new IllegalStateException("keytool failed: " + new String(output, StandardCharsets.UTF_8));
    }
    KeyStore store = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(keystore)) {
      store.load(in, PASSWORD);
    }
    PrivateKey key = (PrivateKey) store.getKey(name, PASSWORD);
    Path certificate = Files.writeString(dir.resolve(name + ".crt"), pem("CERTIFICATE", store.getCertificate(name).getEncoded()));
    Path keyFile = Files.writeString(dir.resolve(name + ".key"), pem("PRIVATE KEY", key.getEncoded()));
    return new Pem(certificate, keyFile);
  }

  private static String pem(String type, byte[] der) {
    return "-----BEGIN " + type + "-----\n"
        + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
        + "\n-----END " + type + "-----\n";
  }
}
