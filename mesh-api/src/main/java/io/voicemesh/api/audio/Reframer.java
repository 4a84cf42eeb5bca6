package io.voicemesh.api.audio;

import java.util.Arrays;
import java.util.function.Consumer;

/**
 * Cuts a stream of byte arrays of any size into frames of exactly {@code frameBytes}. The frame
 * array handed to the sink is reused: a sink that keeps it must copy it.
 */
public final class Reframer {
  private final byte[] frame;
  private final Consumer<byte[]> sink;
  private int fill;

  public Reframer(int frameBytes, Consumer<byte[]> sink) {
    if (frameBytes <= 0) {
      throw new IllegalArgumentException("frameBytes must be positive, got " + frameBytes);
    }
    this.frame = new byte[frameBytes];
    this.sink = sink;
  }

  public void accept(byte[] data) {
    int offset = 0;
    while (offset < data.length) {
      int n = Math.min(frame.length - fill, data.length - offset);
      System.arraycopy(data, offset, frame, fill, n);
      fill += n;
      offset += n;
      if (fill == frame.length) {
        fill = 0;
        sink.accept(frame);
      }
    }
  }

  /** The bytes of an incomplete last frame (possibly none), which are then forgotten. */
  public byte[] remainder() {
    byte[] rest = Arrays.copyOf(frame, fill);
    fill = 0;
    return rest;
  }
}
