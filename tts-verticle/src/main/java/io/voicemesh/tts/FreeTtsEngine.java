package io.voicemesh.tts;

import com.sun.speech.freetts.Voice;
import com.sun.speech.freetts.VoiceManager;
import com.sun.speech.freetts.audio.AudioPlayer;
import io.voicemesh.api.audio.Pcm16;
import io.voicemesh.api.engine.TtsEngine;
import java.util.Arrays;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import javax.sound.sampled.AudioFormat;

/**
 * FreeTTS voices, 16 kHz. A FreeTTS voice is not thread-safe, so the engine keeps a small pool of
 * allocated voices and each synthesis borrows one.
 */
final class FreeTtsEngine implements TtsEngine {
  private static final int RATE_HZ = 16_000;
  private final BlockingQueue<Voice> voices;

  FreeTtsEngine(String voiceName, int instances, float wordsPerMinute) {
    System.setProperty("freetts.voices", "com.sun.speech.freetts.en.us.cmu_us_kal.KevinVoiceDirectory");
    voices = new ArrayBlockingQueue<>(instances);
    for (int i = 0; i < instances; i++) {
      Voice voice = VoiceManager.getInstance().getVoice(voiceName);
      if (voice == null) {
        throw new IllegalArgumentException("FreeTTS has no voice '" + voiceName + "'; try kevin16");
      }
      voice.allocate();
      if (wordsPerMinute > 0) {
        voice.setRate(wordsPerMinute);
      }
      voice.setAudioPlayer(new SinkPlayer());
      voices.add(voice);
    }
  }

  @Override
  public int sampleRateHz() {
    return RATE_HZ;
  }

  @Override
  public void synthesize(String text, String ignoredVoice, Consumer<byte[]> sink, BooleanSupplier cancelled)
      throws InterruptedException {
    Voice voice = voices.take();
    SinkPlayer player = (SinkPlayer) voice.getAudioPlayer();
    try {
      player.target(sink, cancelled);
      voice.speak(text);
    } finally {
      player.target(null, () -> true);
      voices.add(voice);
    }
  }

  @Override
  public void close() {
    voices.forEach(Voice::deallocate);
  }

  /** FreeTTS's audio output, redirected to a sink; big-endian samples become little-endian. */
  private static final class SinkPlayer implements AudioPlayer {
    private AudioFormat format = new AudioFormat(RATE_HZ, 16, 1, true, true);
    private Consumer<byte[]> sink;
    private BooleanSupplier cancelled = () -> true;
    private float volume = 1f;

    void target(Consumer<byte[]> sink, BooleanSupplier cancelled) {
      this.sink = sink;
      this.cancelled = cancelled;
    }

    @Override
    public boolean write(byte[] audio) {
      return write(audio, 0, audio.length);
    }

    @Override
    public boolean write(byte[] audio, int offset, int size) {
      if (sink == null || cancelled.getAsBoolean()) {
        return false;
      }
      byte[] pcm = Arrays.copyOfRange(audio, offset, offset + size);
      sink.accept(format.isBigEndian() ? Pcm16.swapByteOrder(pcm, 0, pcm.length) : pcm);
      return true;
    }

    @Override
    public void setAudioFormat(AudioFormat format) {
      if (format.getSampleRate() != RATE_HZ || format.getSampleSizeInBits() != 16 || format.getChannels() != 1) {
        throw new IllegalStateException("FreeTTS voice produces " + format + "; expected 16 kHz 16-bit mono");
      }
      this.format = format;
    }

    @Override
    public AudioFormat getAudioFormat() {
      return format;
    }

    @Override
    public boolean end() {
      return !cancelled.getAsBoolean();
    }

    @Override
    public boolean drain() {
      return true;
    }

    @Override
    public float getVolume() {
      return volume;
    }

    @Override
    public void setVolume(float volume) {
      this.volume = volume;
    }

    // The rest of the player life cycle has no meaning for an in-memory sink.
    @Override
    public void pause() {
    }

    @Override
    public void resume() {
    }

    @Override
    public void reset() {
    }

    @Override
    public void begin(int size) {
    }

    @Override
    public void cancel() {
    }

    @Override
    public void close() {
    }

    @Override
    public long getTime() {
      return 0;
    }

    @Override
    public void resetTime() {
    }

    @Override
    public void startFirstSampleTimer() {
    }

    @Override
    public void showMetrics() {
    }
  }
}
