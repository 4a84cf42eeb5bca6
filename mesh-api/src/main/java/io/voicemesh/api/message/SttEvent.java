package io.voicemesh.api.message;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;

/**
 * What an STT worker reports about a session's audio. {@code audioMs} is the position in the
 * session's input audio the event refers to.
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type")
@JsonSubTypes({
    @JsonSubTypes.Type(value = SttEvent.SpeechStarted.class, name = "speech_started"),
    @JsonSubTypes.Type(value = SttEvent.SpeechStopped.class, name = "speech_stopped"),
    @JsonSubTypes.Type(value = SttEvent.TranscriptPartial.class, name = "transcript.partial"),
    @JsonSubTypes.Type(value = SttEvent.TranscriptFinal.class, name = "transcript.final"),
    @JsonSubTypes.Type(value = SttEvent.StreamClosed.class, name = "stream.closed"),
    @JsonSubTypes.Type(value = SttEvent.Checkpoint.class, name = "checkpoint"),
    @JsonSubTypes.Type(value = SttEvent.Warning.class, name = "warning")
})
public sealed interface SttEvent {

  long audioMs();

  /** The same event with its positions {@code ms} later (from a stream's audio to the session's). */
  SttEvent shiftedBy(long ms);

  record SpeechStarted(long audioMs) implements SttEvent {
    @Override
    public SpeechStarted shiftedBy(long ms) {
      return new SpeechStarted(audioMs + ms);
    }
  }

  record SpeechStopped(long audioMs) implements SttEvent {
    @Override
    public SpeechStopped shiftedBy(long ms) {
      return new SpeechStopped(audioMs + ms);
    }
  }

  /** The hypothesis so far for the current utterance. */
  record TranscriptPartial(String text, long audioMs) implements SttEvent {
    @Override
    public TranscriptPartial shiftedBy(long ms) {
      return new TranscriptPartial(text, audioMs + ms);
    }
  }

  /**
   * The user's turn is over; {@code text} may be empty when nothing was recognized. {@code audioMs}
   * is where the turn was ended (end of the silence, or the commit); {@code speechEndMs} where the
   * speech itself ended.
   */
  record TranscriptFinal(String text, long audioMs, long speechEndMs) implements SttEvent {
    @Override
    public TranscriptFinal shiftedBy(long ms) {
      return new TranscriptFinal(text, audioMs + ms, speechEndMs + ms);
    }
  }

  /**
   * Nothing the recognizer holds comes from before {@code audioMs} (it was reset in silence): a
   * replacement worker would need only the audio from here on. Not shown to clients.
   */
  record Checkpoint(long audioMs) implements SttEvent {
    @Override
    public Checkpoint shiftedBy(long ms) {
      return new Checkpoint(audioMs + ms);
    }
  }

  /** The worker closed the stream {@code streamId} (idle, shutting down) or does not know it: open another. */
  record StreamClosed(String streamId, String reason, long audioMs) implements SttEvent {
    @Override
    public StreamClosed shiftedBy(long ms) {
      return new StreamClosed(streamId, reason, audioMs + ms);
    }
  }

  /**
   * How the stream is served changed in a way the session should hear about: its remote speech
   * worker was lost or full and the node's embedded engine took over.
   */
  record Warning(String message, long audioMs) implements SttEvent {
    @Override
    public Warning shiftedBy(long ms) {
      return new Warning(message, audioMs + ms);
    }
  }
}
