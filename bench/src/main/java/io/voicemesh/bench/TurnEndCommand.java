package io.voicemesh.bench;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.voicemesh.api.engine.EndOfTurn;
import io.voicemesh.launcher.Mesh;
import io.voicemesh.launcher.MeshConfig;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code java -jar bench/target/voicemesh-bench.jar turn-end}: the end of the user's turn on real
 * speech (FreeTTS into Vosk, the builtin agent answering), against the all-in-one mesh in this JVM.
 *
 * <pre>
 * 1. complete questions, default settings (end of turn from the words)  voice to voice p50/p95
 * 2. the same questions, session.update silenceMs 600 (silence alone)   voice to voice p50/p95
 * 3. utterances with a 600 ms pause after a continuation word           premature turn ends
 * </pre>
 * Both settings run on the same mesh, one after the other, with the same phrases and concurrency.
 */
@Command(name = "turn-end", mixinStandardHelpOptions = true, sortOptions = false,
    description = "End of turn on real speech: voice to voice with the default (word-aware) settings beside a fixed "
        + "600 ms silence, and premature turn ends on utterances that pause after a continuation word.")
final class TurnEndCommand implements Callable<Integer> {
  /** Complete questions; chosen so that Vosk hears their last word as said (it hears "two" as "to"). */
  static final List<String> QUESTIONS = List.of("what time is it", "calculate eight times nine",
      "what is twelve times seven", "calculate nine times three", "what day is it today", "tell me the time",
      "hello there", "what is the date today");

  /** An utterance that pauses after a word needing more, and the rest of it. */
  static final List<String[]> PAUSED = List.of(
      new String[] {"what is twelve times seven and", "what time is it"},
      new String[] {"i want to go to the", "cinema tonight"},
      new String[] {"what is the capital of", "france"},
      new String[] {"tell me a joke about", "cats"},
      new String[] {"my name is", "john"},
      new String[] {"i would like to order a pizza with", "extra cheese"},
      new String[] {"what is three hundred and", "twenty"},
      new String[] {"can you tell me the", "time please"},
      new String[] {"calculate eight times", "nine"},
      new String[] {"i need a table for", "four people"},
      new String[] {"remind me to call my", "mother"},
      new String[] {"what is the weather in", "london"},
      new String[] {"book a flight from", "boston"},
      new String[] {"i think that the answer is", "forty two"},
      new String[] {"play some music by", "the beatles"},
      new String[] {"i was thinking um", "what time is it"},
      new String[] {"how far is it to", "paris"},
      new String[] {"i want to buy a", "new phone"},
      new String[] {"what is ten plus", "five"},
      new String[] {"send a message to", "my brother"},
      new String[] {"turn off the lights because", "i am going to sleep"},
      new String[] {"i was wondering if", "you could help me"},
      new String[] {"set an alarm for", "seven in the morning"},
      new String[] {"what is the difference between", "a cat and a dog"});
  static final int PAUSE_MS = 600;
  static final long FIXED_SILENCE_MS = 600;
  /** A turn that ends this soon after its speech (in the audio) ended "within 300 ms". */
  static final long QUICK_END_MS = 300;

  @Option(names = "--turns", description = "measured turns per setting (default ${DEFAULT-VALUE})")
  int turns = 24;

  @Option(names = "--sessions", description = "sessions talking at once (default ${DEFAULT-VALUE})")
  int sessions = 2;

  @Option(names = "--warmup-turns", description = "unmeasured turns first (default ${DEFAULT-VALUE})")
  int warmupTurns = 2;

  @Option(names = "--data-dir", description = "the mesh's data (default a fresh folder under the temp dir, deleted after)")
  Path dataDir;

  private final Report report = new Report();

  @Override
  public Integer call() throws Exception {
    Path work = dataDir != null ? dataDir : Files.createTempDirectory("voicemesh-turn-end");
    Vertx clientVertx = Vertx.vertx();
    try {
      MeshConfig config = MeshConfig.load(null, GatewayLoad.meshSettings(Files.createDirectories(work.resolve("mesh")),
          "bench-turn-end"));
      JsonObject gateway = config.section("gateway");
      EndOfTurn.Eagerness eagerness = EndOfTurn.Eagerness.named(gateway.getString("eagerness"));
      long t = System.nanoTime();
      try (Mesh mesh = Mesh.start(config).await(5, TimeUnit.MINUTES)) {
        System.out.printf("mesh with default engines ready in %.1f s; default eagerness %s (%d..%d ms)%n",
            (System.nanoTime() - t) / 1e9, gateway.getString("eagerness"), eagerness.minSilenceMs, eagerness.maxSilenceMs);
        String uri = GatewayLoad.voiceUri(mesh);
        Map<String, byte[]> questions = VoiceToVoice.say(QUESTIONS);

        System.out.printf("%n== 1. complete questions, default settings: %d warm-up + %d measured turns, %d at once%n",
            warmupTurns, turns, sessions);
        List<VoiceToVoice.Turn> wordAware = new VoiceToVoice(clientVertx, mesh.httpPort(), uri, eagerness.minSilenceMs,
            questions).run(warmupTurns, turns, sessions);
        System.out.printf("%n== 2. the same questions, session.update silenceMs %d (silence alone)%n", FIXED_SILENCE_MS);
        List<VoiceToVoice.Turn> fixed = new VoiceToVoice(clientVertx, mesh.httpPort(), uri, FIXED_SILENCE_MS, questions)
            .withSessionUpdate(new JsonObject().put("silenceMs", FIXED_SILENCE_MS)).run(warmupTurns, turns, sessions);
        System.out.printf("%n== 3. %d utterances with a %d ms pause after a continuation word, default settings%n",
            PAUSED.size(), PAUSE_MS);
        List<VoiceToVoice.Turn> paused = new VoiceToVoice(clientVertx, mesh.httpPort(), uri, eagerness.minSilenceMs,
            pausedSpeech()).run(0, PAUSED.size(), sessions);

        voiceToVoiceRows("default (" + gateway.getString("eagerness") + ")", wordAware, fixed);
        quickEndRows(wordAware);
        pausedRows(paused);
      }
    } finally {
      EventBusHop.close(clientVertx);
      if (dataDir == null) {
        BenchCommand.deleteTree(work);
      }
    }
    System.out.println();
    System.out.print(report.render());
    return report.anyFailed() ? 1 : 0;
  }

  private static Map<String, byte[]> pausedSpeech() throws Exception {
    Map<String, byte[]> parts = VoiceToVoice.say(PAUSED.stream().flatMap(java.util.Arrays::stream).distinct().toList());
    byte[] pause = new byte[io.voicemesh.api.audio.Pcm16.bytesFor(io.voicemesh.api.audio.Pcm16.DEFAULT_RATE_HZ, PAUSE_MS)];
    Map<String, byte[]> speech = new LinkedHashMap<>();
    for (String[] utterance : PAUSED) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      out.writeBytes(voiced(parts.get(utterance[0])));
      out.writeBytes(pause);
      out.writeBytes(voiced(parts.get(utterance[1])));
      speech.put(utterance[0] + " ... " + utterance[1], out.toByteArray());
    }
    return speech;
  }

  /**
   * The recording without the quiet FreeTTS puts around words (≈ 200 ms before, 100 ms after), so
   * the pause between two parts is {@link #PAUSE_MS} from voiced frame to voiced frame (-50 dBFS,
   * the speech detector's floor).
   */
  private static byte[] voiced(byte[] pcm) {
    int frame = io.voicemesh.api.audio.Pcm16.bytesFor(io.voicemesh.api.audio.Pcm16.DEFAULT_RATE_HZ, PcmClock.FRAME_MS);
    int first = -1;
    int end = -1;
    for (int offset = 0; offset + frame <= pcm.length; offset += frame) {
      if (io.voicemesh.api.audio.Pcm16.rmsDbfs(pcm, offset, frame) > -50) {
        first = first < 0 ? offset : first;
        end = offset + frame;
      }
    }
    return first < 0 ? pcm : java.util.Arrays.copyOfRange(pcm, first, end);
  }

  private void voiceToVoiceRows(String setting, List<VoiceToVoice.Turn> wordAware, List<VoiceToVoice.Turn> fixed) {
    LatencyRecorder.Percentiles ours = voiceToVoice(wordAware);
    LatencyRecorder.Percentiles silenceOnly = voiceToVoice(fixed);
    report.row("voice to voice p50, " + setting + " vs silence " + FIXED_SILENCE_MS + " ms, " + okCount(wordAware),
        Report.ms(ours.p50Ms()), Report.ms(silenceOnly.p50Ms()), "p50 <= 450 ms", ours.count() > 0 && ours.p50Ms() <= 450);
    report.row("voice to voice p95", Report.ms(ours.p95Ms()), Report.ms(silenceOnly.p95Ms()), "p95 <= 600 ms",
        ours.count() > 0 && ours.p95Ms() <= 600);
    LatencyRecorder.Percentiles endpointing = LatencyRecorder.Percentiles.of(wordAware.stream()
        .filter(VoiceToVoice.Turn::ok).mapToLong(VoiceToVoice.Turn::endpointing).toArray());
    LatencyRecorder.Percentiles fixedEndpointing = LatencyRecorder.Percentiles.of(fixed.stream()
        .filter(VoiceToVoice.Turn::ok).mapToLong(VoiceToVoice.Turn::endpointing).toArray());
    report.row("  of which end of speech -> transcript.final p50/p95", Report.ms(endpointing.p50Ms()) + " / "
        + Report.ms(endpointing.p95Ms()), Report.ms(fixedEndpointing.p50Ms()) + " / " + Report.ms(fixedEndpointing.p95Ms()),
        "", null);
    LatencyRecorder.Percentiles after = LatencyRecorder.Percentiles.of(wordAware.stream()
        .filter(VoiceToVoice.Turn::ok).mapToLong(VoiceToVoice.Turn::afterEndpointing).toArray());
    report.row("  of which transcript.final -> first agent audio p50/p95", Report.ms(after.p50Ms()) + " / "
        + Report.ms(after.p95Ms()), "", "", null);
  }

  private void quickEndRows(List<VoiceToVoice.Turn> wordAware) {
    List<VoiceToVoice.Turn> ok = wordAware.stream().filter(VoiceToVoice.Turn::ok).toList();
    long quick = ok.stream().filter(turn -> turn.endedAfterAudioMs() <= QUICK_END_MS).count();
    report.row("complete questions ending within " + QUICK_END_MS + " ms of silence (in the audio)",
        rate(quick, ok.size()), "", "", null);
  }

  private void pausedRows(List<VoiceToVoice.Turn> paused) {
    long cut = paused.stream().filter(VoiceToVoice.Turn::cutOff).count();
    long failed = paused.stream().filter(turn -> !turn.ok() && !turn.cutOff()).count();
    report.row("premature turn ends, " + PAUSE_MS + " ms pause after a continuation word", rate(cut, paused.size())
        + (failed > 0 ? " (" + failed + " failed otherwise)" : ""), "", "0", cut == 0 && failed == 0);
  }

  private static LatencyRecorder.Percentiles voiceToVoice(List<VoiceToVoice.Turn> turns) {
    return LatencyRecorder.Percentiles.of(turns.stream().filter(VoiceToVoice.Turn::ok)
        .mapToLong(VoiceToVoice.Turn::voiceToVoice).toArray());
  }

  private static String okCount(List<VoiceToVoice.Turn> turns) {
    return turns.stream().filter(VoiceToVoice.Turn::ok).count() + "/" + turns.size() + " turns";
  }

  private static String rate(long count, long of) {
    return count + "/" + of + (of == 0 ? "" : String.format(" (%.0f%%)", 100.0 * count / of));
  }
}
