package io.voicemesh.gateway;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.voicemesh.api.ErrorCode;
import io.voicemesh.api.MeshException;
import io.voicemesh.api.audio.G711;
import io.voicemesh.api.message.ToolSpec;
import java.util.List;

/**
 * A Realtime session's configuration as {@code session.update} sets it, in the GA shape
 * ({@code audio.input.format}, {@code output_modalities}, …) or the beta one
 * ({@code input_audio_format: "pcm16"}, {@code modalities}, …); rendered back in the client's shape.
 * Every field is checked before any is applied: a refused update changes nothing.
 *
 * <p>What the conversation core does with it ({@link #coreSettings}): the input format sets the
 * input sample rate; {@code server_vad}'s {@code silence_duration_ms} becomes a fixed end-of-turn
 * silence, {@code semantic_vad}'s {@code eagerness} our eagerness; {@code turn_detection: null} or
 * {@code create_response: false} make turns wait for {@code response.create}. {@code threshold},
 * {@code prefix_padding_ms}, {@code instructions}, {@code tools}, {@code temperature} and the like
 * are kept and shown, not applied (the README lists them). {@code tools} are the client's own
 * functions ({@link #clientTools}), offered to the model beside the agent's tools.
 */
final class RealtimeSession {
  /** An audio format of the protocol, with the rate it is carried at. */
  enum Format {
    PCM("audio/pcm", "pcm16", 24_000, null),
    PCMU("audio/pcmu", "g711_ulaw", G711.RATE_HZ, G711.ULAW),
    PCMA("audio/pcma", "g711_alaw", G711.RATE_HZ, G711.ALAW);

    final String type;
    final String betaName;
    final int rateHz;
    final G711 law;

    Format(String type, String betaName, int rateHz, G711 law) {
      this.type = type;
      this.betaName = betaName;
      this.rateHz = rateHz;
      this.law = law;
    }

    JsonObject describe() {
      JsonObject format = new JsonObject().put("type", type);
      return this == PCM ? format.put("rate", rateHz) : format;
    }

    static Format ofType(String type) {
      for (Format format : values()) {
        if (format.type.equals(type)) {
          return format;
        }
      }
      throw invalid("audio formats are audio/pcm (24 kHz), audio/pcmu and audio/pcma; got " + type);
    }

    static Format ofBetaName(String name) {
      for (Format format : values()) {
        if (format.betaName.equals(name)) {
          return format;
        }
      }
      throw invalid("audio formats are pcm16, g711_ulaw and g711_alaw; got " + name);
    }
  }

  final String model;
  final boolean beta;
  List<String> outputModalities = List.of("audio");
  String instructions = "";
  Format inputFormat = Format.PCM;
  Format outputFormat = Format.PCM;
  String voice = "alloy";
  JsonObject transcription;
  /** By default the end of a turn is judged from the words as well as the silence: semantic_vad, as ours does. */
  JsonObject turnDetection = new JsonObject().put("type", "semantic_vad").put("eagerness", "auto")
      .put("create_response", true).put("interrupt_response", true);
  JsonArray tools = new JsonArray();
  Object toolChoice = "auto";
  Object maxOutputTokens = "inf";
  Double temperature = 0.8;
  List<ToolSpec> clientTools = List.of();

  RealtimeSession(String model, boolean beta) {
    this.model = model;
    this.beta = beta;
  }

  private static MeshException invalid(String message) {
    return new MeshException(ErrorCode.BAD_REQUEST, message);
  }

  boolean audioOut() {
    return outputModalities.contains("audio");
  }

  /** Whether a finished utterance is answered without a {@code response.create}. */
  boolean autoRespond() {
    return turnDetection != null && turnDetection.getValue("create_response") != Boolean.FALSE;
  }

  /**
   * Applies {@code session} (the body of a {@code session.update}); returns the conversation
   * settings that changed, in the {@code voicemesh.v1} vocabulary {@link ConversationControl#update}
   * takes.
   */
  JsonObject update(JsonObject session) {
    // Parse everything into locals first; assign only once all of it is valid.
    List<String> modalities = outputModalities;
    Format in = inputFormat;
    Format out = outputFormat;
    String nextVoice = voice;
    JsonObject nextTranscription = transcription;
    JsonObject nextTurnDetection = turnDetection;
    JsonObject audio = object(session, "audio");
    JsonObject input = audio == null ? null : object(audio, "input");
    JsonObject output = audio == null ? null : object(audio, "output");
    if (session.containsKey("output_modalities") || session.containsKey("modalities")) {
      JsonArray named = array(session, session.containsKey("output_modalities") ? "output_modalities" : "modalities");
      modalities = named.stream().map(String::valueOf).toList();
      if (modalities.isEmpty() || !List.of("audio", "text").containsAll(modalities)) {
        throw invalid("output_modalities are [\"audio\"] or [\"text\"]");
      }
    }
    if (input != null && input.containsKey("format")) {
      in = Format.ofType(text(object(input, "format"), "type"));
    }
    if (session.containsKey("input_audio_format")) {
      in = Format.ofBetaName(text(session, "input_audio_format"));
    }
    if (output != null && output.containsKey("format")) {
      out = Format.ofType(text(object(output, "format"), "type"));
    }
    if (session.containsKey("output_audio_format")) {
      out = Format.ofBetaName(text(session, "output_audio_format"));
    }
    if (output != null && output.containsKey("voice")) {
      nextVoice = text(output, "voice");
    }
    if (session.containsKey("voice")) {
      nextVoice = text(session, "voice");
    }
    if (input != null && input.containsKey("transcription")) {
      nextTranscription = object(input, "transcription");
    }
    if (session.containsKey("input_audio_transcription")) {
      nextTranscription = object(session, "input_audio_transcription");
    }
    boolean turnDetectionGiven = (input != null && input.containsKey("turn_detection"))
        || session.containsKey("turn_detection");
    if (turnDetectionGiven) {
      nextTurnDetection = input != null && input.containsKey("turn_detection")
          ? object(input, "turn_detection") : object(session, "turn_detection");
      checkTurnDetection(nextTurnDetection);
    }
    String nextInstructions = session.containsKey("instructions") ? text(session, "instructions") : instructions;
    JsonArray nextTools = session.containsKey("tools") ? array(session, "tools") : tools;
    List<ToolSpec> specs = clientTools(nextTools);
    Object nextMaxTokens = session.containsKey("max_output_tokens") ? session.getValue("max_output_tokens")
        : session.containsKey("max_response_output_tokens") ? session.getValue("max_response_output_tokens")
        : maxOutputTokens;
    Double nextTemperature = temperature;
    if (session.containsKey("temperature")) {
      if (!(session.getValue("temperature") instanceof Number t)) {
        throw invalid("temperature must be a number");
      }
      nextTemperature = t.doubleValue();
    }
    outputModalities = modalities;
    inputFormat = in;
    outputFormat = out;
    voice = nextVoice;
    transcription = nextTranscription;
    turnDetection = nextTurnDetection;
    instructions = nextInstructions;
    tools = nextTools;
    clientTools = specs;
    toolChoice = session.containsKey("tool_choice") ? session.getValue("tool_choice") : toolChoice;
    maxOutputTokens = nextMaxTokens;
    temperature = nextTemperature;
    JsonObject core = new JsonObject().put("inputSampleRate", inputFormat.rateHz).put("voice", voice);
    if (turnDetectionGiven && turnDetection != null) {
      if ("semantic_vad".equals(turnDetection.getString("type"))) {
        core.put("eagerness", turnDetection.getString("eagerness", "auto"));
      } else if (turnDetection.getValue("silence_duration_ms") instanceof Number silence) {
        core.put("silenceMs", Math.max(200, silence.intValue()));
      }
    }
    return core;
  }

  /** {@code tools} as the model is offered them; each is {type: function, name, description, parameters}. */
  private static List<ToolSpec> clientTools(JsonArray tools) {
    List<ToolSpec> specs = new java.util.ArrayList<>();
    for (Object entry : tools) {
      if (!(entry instanceof JsonObject tool) || !"function".equals(tool.getValue("type", "function"))
          || !(tool.getValue("name") instanceof String name) || name.isBlank()) {
        throw invalid("tools are {type: \"function\", name, description, parameters}");
      }
      Object description = tool.getValue("description");
      Object parameters = tool.getValue("parameters");
      if ((description != null && !(description instanceof String)) || (parameters != null && !(parameters instanceof JsonObject))) {
        throw invalid("a tool's description is a string and its parameters a JSON schema object");
      }
      specs.add(new ToolSpec(name, description == null ? "" : (String) description,
          parameters == null ? new JsonObject().put("type", "object") : (JsonObject) parameters));
    }
    return List.copyOf(specs);
  }

  private static void checkTurnDetection(JsonObject detection) {
    if (detection == null) {
      return;
    }
    String type = detection.getValue("type") == null ? "server_vad" : text(detection, "type");
    if (!type.equals("server_vad") && !type.equals("semantic_vad")) {
      throw invalid("turn_detection.type is server_vad or semantic_vad (or turn_detection null for manual turns)");
    }
    detection.put("type", type);
    for (String field : List.of("threshold", "prefix_padding_ms", "silence_duration_ms")) {
      Object value = detection.getValue(field);
      if (value != null && !(value instanceof Number)) {
        throw invalid("turn_detection." + field + " must be a number");
      }
    }
    Object silence = detection.getValue("silence_duration_ms");
    if (silence instanceof Number ms && (ms.intValue() < 0 || ms.intValue() > 5_000)) {
      throw invalid("turn_detection.silence_duration_ms must be from 0 to 5000");
    }
    Object eagerness = detection.getValue("eagerness");
    if (eagerness != null && !List.of("low", "medium", "high", "auto").contains(eagerness)) {
      throw invalid("turn_detection.eagerness is low, medium, high or auto");
    }
    for (String field : List.of("create_response", "interrupt_response")) {
      Object value = detection.getValue(field);
      if (value != null && !(value instanceof Boolean)) {
        throw invalid("turn_detection." + field + " must be true or false");
      }
    }
  }

  private static JsonObject object(JsonObject from, String field) {
    Object value = from.getValue(field);
    if (value != null && !(value instanceof JsonObject)) {
      throw invalid(field + " must be an object");
    }
    return (JsonObject) value;
  }

  private static JsonArray array(JsonObject from, String field) {
    Object value = from.getValue(field);
    if (!(value instanceof JsonArray array)) {
      throw invalid(field + " must be an array");
    }
    return array;
  }

  private static String text(JsonObject from, String field) {
    Object value = from.getValue(field);
    if (!(value instanceof String text)) {
      throw invalid(field + " must be a string");
    }
    return text;
  }

  /** The session object of {@code session.created} and {@code session.updated}, in the client's shape. */
  JsonObject describe(String id) {
    if (beta) {
      return new JsonObject().put("id", id).put("object", "realtime.session").put("model", model)
          .put("modalities", audioOut() ? new JsonArray().add("text").add("audio") : new JsonArray().add("text"))
          .put("instructions", instructions).put("voice", voice)
          .put("input_audio_format", inputFormat.betaName).put("output_audio_format", outputFormat.betaName)
          .put("input_audio_transcription", transcription).put("turn_detection", turnDetection)
          .put("tools", tools).put("tool_choice", toolChoice).put("temperature", temperature)
          .put("max_response_output_tokens", maxOutputTokens);
    }
    return new JsonObject().put("type", "realtime").put("object", "realtime.session").put("id", id)
        .put("model", model).put("output_modalities", new JsonArray(outputModalities))
        .put("instructions", instructions)
        .put("audio", new JsonObject()
            .put("input", new JsonObject().put("format", inputFormat.describe()).put("transcription", transcription)
                .put("noise_reduction", null).put("turn_detection", turnDetection))
            .put("output", new JsonObject().put("format", outputFormat.describe()).put("voice", voice)
                .put("speed", 1.0)))
        .put("tools", tools).put("tool_choice", toolChoice).put("max_output_tokens", maxOutputTokens)
        .put("tracing", null).put("truncation", "auto").put("prompt", null).put("expires_at", 0)
        .put("include", null);
  }
}
