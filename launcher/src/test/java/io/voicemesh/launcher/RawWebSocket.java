package io.voicemesh.launcher;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A WebSocket client on a plain socket, for frames a real client library refuses to send: unmasked,
 * reserved bits, unknown opcodes, orphan continuations, lengths beyond the limit, compressed frames.
 */
final class RawWebSocket implements AutoCloseable {
  static final int CONTINUATION = 0x0;
  static final int TEXT = 0x1;
  static final int BINARY = 0x2;
  static final int CLOSE = 0x8;
  static final int PING = 0x9;
  static final int PONG = 0xA;
  /** What {@link #awaitClose} returns when the connection ended without a close frame (RFC 6455's 1006). */
  static final int NO_CLOSE_FRAME = 1006;

  /** A frame from the server. */
  record Frame(int opcode, byte[] payload) {
    String text() {
      return new String(payload, StandardCharsets.UTF_8);
    }

    int closeCode() {
      return payload.length >= 2 ? ((payload[0] & 0xFF) << 8) | (payload[1] & 0xFF) : 1005;
    }
  }

  private final Socket socket;
  private final InputStream in;
  private final OutputStream out;
  private final int status;
  private final Map<String, String> headers;

  private RawWebSocket(Socket socket, int status, Map<String, String> headers) throws IOException {
    this.socket = socket;
    this.in = socket.getInputStream();
    this.out = socket.getOutputStream();
    this.status = status;
    this.headers = headers;
  }

  /** Upgrades {@code /v1/voice?query} with these extra request headers; check {@link #status()}. */
  static RawWebSocket open(int port, String query, Map<String, String> extraHeaders) throws IOException {
    Socket socket = new Socket();
    socket.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
    socket.setSoTimeout(10_000);
    StringBuilder request = new StringBuilder("GET /v1/voice?" + query + " HTTP/1.1\r\n")
        .append("Host: 127.0.0.1:").append(port).append("\r\n")
        .append("Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n")
        .append("Sec-WebSocket-Key: ").append(Base64.getEncoder().encodeToString(new byte[16])).append("\r\n");
    extraHeaders.forEach((name, value) -> request.append(name).append(": ").append(value).append("\r\n"));
    socket.getOutputStream().write(request.append("\r\n").toString().getBytes(StandardCharsets.US_ASCII));
    InputStream in = socket.getInputStream();
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
      int b = in.read();
      if (b < 0) {
        throw new EOFException("the server closed during the upgrade: " + head);
      }
      head.write(b);
    }
    String[] lines = head.toString(StandardCharsets.ISO_8859_1).split("\r\n");
    Map<String, String> headers = new LinkedHashMap<>();
    for (int i = 1; i < lines.length; i++) {
      int colon = lines[i].indexOf(':');
      if (colon > 0) {
        headers.put(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT), lines[i].substring(colon + 1).trim());
      }
    }
    return new RawWebSocket(socket, Integer.parseInt(lines[0].split(" ")[1]), headers);
  }

  int status() {
    return status;
  }

  /** A response header (name in any case), or null. */
  String header(String name) {
    return headers.get(name.toLowerCase(Locale.ROOT));
  }

  Socket socket() {
    return socket;
  }

  /** Reads frames until a text frame containing {@code marker} (e.g. {@code "session.ready"}). */
  Frame awaitText(String marker, Duration timeout) throws IOException {
    long end = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < end) {
      Frame frame = read(end);
      if (frame == null) {
        throw new EOFException("closed before a text frame with " + marker);
      }
      if (frame.opcode == TEXT && frame.text().contains(marker)) {
        return frame;
      }
      if (frame.opcode == CLOSE) {
        throw new EOFException("closed (" + frame.closeCode() + ") before a text frame with " + marker);
      }
    }
    throw new SocketTimeoutException("no text frame with " + marker + " in " + timeout);
  }

  /**
   * Reads until the server's close frame and returns its code, or {@link #NO_CLOSE_FRAME} when the
   * connection ends without one. Text frames seen on the way are collected into {@code texts} (may be null).
   */
  int awaitClose(Duration timeout, java.util.List<String> texts) throws IOException {
    long end = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < end) {
      Frame frame;
      try {
        frame = read(end);
      } catch (IOException e) {
        return NO_CLOSE_FRAME; // reset
      }
      if (frame == null) {
        return NO_CLOSE_FRAME;
      }
      if (frame.opcode == CLOSE) {
        return frame.closeCode();
      }
      if (frame.opcode == TEXT && texts != null) {
        texts.add(frame.text());
      }
    }
    throw new SocketTimeoutException("no close in " + timeout);
  }

  /** One frame as given: FIN, RSV bits (0–7), opcode, masked or not, the payload. */
  void send(boolean fin, int rsv, int opcode, boolean masked, byte[] payload) throws IOException {
    out.write(frame(fin, rsv, opcode, masked, payload, payload.length));
    out.flush();
  }

  /** A text frame, masked as a client's must be. */
  void sendText(String text) throws IOException {
    send(true, 0, TEXT, true, text.getBytes(StandardCharsets.UTF_8));
  }

  /** A frame header announcing {@code declaredLength} bytes, followed by only {@code sent} bytes of payload. */
  void sendHeaderOnly(int opcode, long declaredLength, int sent) throws IOException {
    byte[] header = frame(true, 0, opcode, true, new byte[0], declaredLength);
    out.write(header);
    out.write(new byte[sent]);
    out.flush();
  }

  /** The bytes of a frame; the payload is masked with a random key when {@code masked}. */
  static byte[] frame(boolean fin, int rsv, int opcode, boolean masked, byte[] payload, long declaredLength) {
    ByteArrayOutputStream frame = new ByteArrayOutputStream(payload.length + 14);
    frame.write((fin ? 0x80 : 0) | (rsv & 0x7) << 4 | (opcode & 0xF));
    int mask = masked ? 0x80 : 0;
    if (declaredLength < 126) {
      frame.write(mask | (int) declaredLength);
    } else if (declaredLength <= 0xFFFF) {
      frame.write(mask | 126);
      frame.write((int) (declaredLength >> 8) & 0xFF);
      frame.write((int) declaredLength & 0xFF);
    } else {
      frame.write(mask | 127);
      for (int shift = 56; shift >= 0; shift -= 8) {
        frame.write((int) (declaredLength >> shift) & 0xFF);
      }
    }
    if (masked) {
      byte[] key = new byte[4];
      ThreadLocalRandom.current().nextBytes(key);
      frame.writeBytes(key);
      byte[] body = payload.clone();
      for (int i = 0; i < body.length; i++) {
        body[i] ^= key[i & 3];
      }
      frame.writeBytes(body);
    } else {
      frame.writeBytes(payload);
    }
    return frame.toByteArray();
  }

  /** The next frame from the server, or null at the end of the stream. */
  private Frame read(long endNanos) throws IOException {
    socket.setSoTimeout((int) Math.max(1, (endNanos - System.nanoTime()) / 1_000_000));
    int b0 = in.read();
    if (b0 < 0) {
      return null;
    }
    int b1 = readByte();
    long length = b1 & 0x7F;
    if (length == 126) {
      length = (readByte() << 8) | readByte();
    } else if (length == 127) {
      length = 0;
      for (int i = 0; i < 8; i++) {
        length = (length << 8) | readByte();
      }
    }
    byte[] payload = in.readNBytes((int) length);
    if (payload.length < length) {
      return null;
    }
    return new Frame(b0 & 0x0F, payload);
  }

  private int readByte() throws IOException {
    int b = in.read();
    if (b < 0) {
      throw new EOFException();
    }
    return b;
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
