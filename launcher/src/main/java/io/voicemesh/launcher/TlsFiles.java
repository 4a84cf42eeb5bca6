package io.voicemesh.launcher;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gateway's TLS certificate and key (PEM), from {@code voicemesh.gateway.tls}: the files given
 * ({@code certPath}, {@code keyPath}), or with {@code selfSigned} a certificate for {@code localhost},
 * {@code 127.0.0.1} and {@code ::1} made once in {@code <dataDir>/tls} and reused while it is valid,
 * for clients that can be told to trust it (development, tests, a phone bridge on the same host).
 */
record TlsFiles(Path cert, Path key, boolean selfSigned) {
  private static final Logger LOG = LoggerFactory.getLogger(TlsFiles.class);
  static final String CERT_FILE = "localhost-cert.pem";
  static final String KEY_FILE = "localhost-key.pem";
  private static final Duration VALIDITY = Duration.ofDays(365);
  /** A certificate about to expire is made anew rather than served for its last days. */
  private static final Duration RENEW_BEFORE = Duration.ofDays(7);

  /** The files to serve, or null when the gateway serves plain HTTP. */
  static TlsFiles resolve(JsonObject tls, Path dataDir) {
    String certPath = tls.getString("certPath", "");
    String keyPath = tls.getString("keyPath", "");
    if (certPath.isBlank() != keyPath.isBlank()) {
      throw new IllegalArgumentException("TLS needs both a certificate and its key (--tls-cert and --tls-key)");
    }
    if (!certPath.isBlank()) {
      Path cert = Path.of(certPath);
      Path key = Path.of(keyPath);
      for (Path file : new Path[] {cert, key}) {
        if (!Files.isReadable(file)) {
          throw new IllegalArgumentException("TLS file not readable: " + file.toAbsolutePath());
        }
      }
      return new TlsFiles(cert, key, false);
    }
    return tls.getBoolean("selfSigned", false) ? selfSigned(dataDir.resolve("tls")) : null;
  }

  /** The self-signed certificate in {@code dir}, made now if it is missing or about to expire. */
  static TlsFiles selfSigned(Path dir) {
    Path cert = dir.resolve(CERT_FILE);
    Path key = dir.resolve(KEY_FILE);
    try {
      if (!Files.exists(cert) || !Files.exists(key) || expiresSoon(cert)) {
        make(dir, cert, key);
        LOG.info("made a self-signed TLS certificate for localhost, 127.0.0.1 and ::1: {}", cert.toAbsolutePath());
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot make the self-signed TLS certificate in " + dir, e);
    }
    return new TlsFiles(cert, key, true);
  }

  private static boolean expiresSoon(Path cert) throws IOException {
    try (var in = Files.newInputStream(cert)) {
      X509Certificate x509 = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
      return x509.getNotAfter().toInstant().isBefore(Instant.now().plus(RENEW_BEFORE));
    } catch (CertificateException e) {
      return true; // not a certificate we can read: make a new one
    }
  }

  private static void make(Path dir, Path certFile, Path keyFile) throws IOException {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
      generator.initialize(256);
      KeyPair keys = generator.generateKeyPair();
      Instant now = Instant.now();
      X500Name subject = new X500Name("CN=localhost, O=VoiceMesh (self-signed)");
      X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(subject,
          new BigInteger(64, new SecureRandom()), Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(VALIDITY)),
          subject, keys.getPublic())
          // Clients check the name they dialled against these: both names of this host.
          .addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[] {
              new GeneralName(GeneralName.dNSName, "localhost"),
              new GeneralName(GeneralName.iPAddress, "127.0.0.1"),
              new GeneralName(GeneralName.iPAddress, "::1")}))
          .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
          .addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth));
      var holder = builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(keys.getPrivate()));
      Files.createDirectories(dir);
      Files.writeString(certFile, pem(holder), StandardCharsets.US_ASCII);
      Path tmpKey = Files.createTempFile(dir, "key", ".pem");
      try {
        Files.setPosixFilePermissions(tmpKey, PosixFilePermissions.fromString("rw-------"));
      } catch (UnsupportedOperationException notPosix) {
        // Not a POSIX file system: the data folder's own permissions protect it.
      }
      // PKCS#8 ("PRIVATE KEY"), the form every TLS stack reads.
      Files.writeString(tmpKey, pem(new org.bouncycastle.openssl.jcajce.JcaPKCS8Generator(keys.getPrivate(), null)),
          StandardCharsets.US_ASCII);
      Files.move(tmpKey, keyFile, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
          java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    } catch (java.security.GeneralSecurityException | OperatorCreationException e) {
      throw new IOException("cannot make a key and certificate: " + e.getMessage(), e);
    }
  }

  private static String pem(Object object) throws IOException {
    StringWriter out = new StringWriter();
    try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
      writer.writeObject(object);
    }
    return out.toString();
  }
}
