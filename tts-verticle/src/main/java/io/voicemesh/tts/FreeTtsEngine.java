package io.voicemesh.tts;

import com.sun.speech.freetts.Item;
import com.sun.speech.freetts.Relation;
import com.sun.speech.freetts.Utterance;
import com.sun.speech.freetts.UtteranceProcessor;
import com.sun.speech.freetts.Voice;
import com.sun.speech.freetts.VoiceManager;
import com.sun.speech.freetts.audio.AudioPlayer;
import io.voicemesh.api.audio.Pcm16;
import io.voicemesh.api.engine.TtsEngine;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import javax.sound.sampled.AudioFormat;

/**
 * FreeTTS voices, 16 kHz. A FreeTTS voice is not thread-safe, so the engine keeps a small pool of
 * allocated voices and each synthesis borrows one.
 *
 * <p>Word timings come from FreeTTS's own utterances: after its processors have run, each token of
 * the text (a white-space separated word, its punctuation aside) has words whose last segment
 * carries an end time on the utterance's timeline. FreeTTS renders an utterance on that timeline
 * (only its closing pause comes out shorter), one utterance after another on its output thread; an
 * utterance's times count from where its audio begins.
 */
final class FreeTtsEngine implements TtsEngine {
  private static final int RATE_HZ = 16_000;
  /**
   * FreeTTS loads a voice's letter-to-sound rules through a static table
   * ({@code LetterToSoundImpl.phonemeTable}): two voices looked up or allocated at once in one JVM
   * corrupt each other's rules (an {@code IndexOutOfBoundsException} from {@code FinalState.loadBinary}). Every
   * engine in the JVM allocates its voices under this lock.
   */
  private static final Object ALLOCATION = new Object();
  private final BlockingQueue<Voice> voices;

  FreeTtsEngine(String voiceName, int instances, float wordsPerMinute) {
    System.setProperty("freetts.voices", "com.sun.speech.freetts.en.us.cmu_us_kal.KevinVoiceDirectory");
    voices = new ArrayBlockingQueue<>(instances);
    for (int i = 0; i < instances; i++) {
      Voice voice = allocate(voiceName);
      if (wordsPerMinute > 0) {
        voice.setRate(wordsPerMinute);
      }
      SinkPlayer player = new SinkPlayer();
      voice.setAudioPlayer(player);
      @SuppressWarnings("unchecked")
      List<UtteranceProcessor> processors = voice.getUtteranceProcessors();
      // Runs last, before the utterance is rendered to audio: the timeline is complete then.
      processors.add(player::timeUtterance);
      voices.add(voice);
    }
  }

  private static Voice allocate(String voiceName) {
    synchronized (ALLOCATION) {
      Voice voice = VoiceManager.getInstance().getVoice(voiceName);
      if (voice == null) {
        throw new IllegalArgumentException("FreeTTS has no voice '" + voiceName + "'; try kevin16");
      }
      voice.allocate();
      return voice;
    }
  }

  @Override
  public int sampleRateHz() {
    return RATE_HZ;
  }

  @Override
  public void synthesize(String text, String ignoredVoice, Consumer<byte[]> sink, BooleanSupplier cancelled)
      throws InterruptedException {
    synthesizeTimed(text, ignoredVoice, sink, cancelled);
  }

  @Override
  public List<Long> synthesizeTimed(String text, String ignoredVoice, Consumer<byte[]> sink, BooleanSupplier cancelled)
      throws InterruptedException {
    Voice voice = voices.take();
    SinkPlayer player = (SinkPlayer) voice.getAudioPlayer();
    try {
      player.target(sink, cancelled);
      voice.speak(text);
      List<Long> ends = player.wordEndsMs();
      return ends.size() == text.strip().split("\\s+").length ? ends : List.of();
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
    private long bytesWritten;
    /** Per utterance of the current text, in order: its tokens' end times (s) on its timeline. */
    private final List<List<Float>> utterances = new ArrayList<>();
    /** Where each utterance's audio starts (bytes); FreeTTS renders on its own output thread, in order. */
    private final List<Long> utteranceStarts = new ArrayList<>();

    synchronized void target(Consumer<byte[]> sink, BooleanSupplier cancelled) {
      this.sink = sink;
      this.cancelled = cancelled;
      bytesWritten = 0;
      utterances.clear();
      utteranceStarts.clear();
    }

    /** Notes when each token of the utterance ends on its timeline, before the utterance is rendered. */
    synchronized void timeUtterance(Utterance utterance) {
      List<Float> ends = new ArrayList<>();
      float last = 0;
      for (Item token = utterance.getRelation(Relation.TOKEN).getHead(); token != null; token = token.getNext()) {
        Item segment = lastSegment(token.getLastDaughter());
        // A token with no spoken word (a lone symbol) ends where the one before it ended.
        last = segment == null ? last : segment.getFeatures().getFloat("end");
        ends.add(last);
      }
      utterances.add(ends);
    }

    private static Item lastSegment(Item word) {
      Item structure = word == null ? null : word.getItemAs(Relation.SYLLABLE_STRUCTURE);
      Item syllable = structure == null ? null : structure.getLastDaughter();
      return syllable == null ? null : syllable.getLastDaughter();
    }

    /** The end of each token of the text spoken since {@link #target}, in ms of the audio written. */
    synchronized List<Long> wordEndsMs() {
      List<Long> ends = new ArrayList<>();
      for (int i = 0; i < utterances.size() && i < utteranceStarts.size(); i++) {
        long startByte = utteranceStarts.get(i);
        long endByte = i + 1 < utteranceStarts.size() ? utteranceStarts.get(i + 1) : bytesWritten;
        long startMs = Pcm16.msFor(RATE_HZ, startByte);
        long audioMs = Pcm16.msFor(RATE_HZ, endByte - startByte);
        utterances.get(i).forEach(end -> ends.add(startMs + Math.min(audioMs, Math.round(end * 1000))));
      }
      return ends;
    }

    @Override
    public boolean write(byte[] audio) {
      return write(audio, 0, audio.length);
    }

    @Override
    public synchronized boolean write(byte[] audio, int offset, int size) {
      if (sink == null || cancelled.getAsBoolean()) {
        return false;
      }
      bytesWritten += size;
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

    /** An utterance's audio begins ({@code size} is FreeTTS's estimate; what is written counts). */
    @Override
    public synchronized void begin(int size) {
      utteranceStarts.add(bytesWritten);
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
