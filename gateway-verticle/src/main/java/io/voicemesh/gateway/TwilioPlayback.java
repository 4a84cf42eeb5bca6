package io.voicemesh.gateway;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.voicemesh.api.audio.G711;
import io.voicemesh.api.audio.Pcm16;
import io.voicemesh.api.audio.Resampler;
import io.voicemesh.api.event.ConversationEvent;
import io.voicemesh.api.event.ConversationEvent.AudioClear;
import io.voicemesh.api.event.ConversationEvent.AudioEnd;
import io.voicemesh.api.event.ConversationEvent.AudioStart;
import io.voicemesh.api.message.LoggedEvent;
import java.util.ArrayDeque;
import java.util.Base64;
import java.util.Deque;
import java.util.Iterator;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Renders a conversation on a Twilio stream: the agent's audio as {@code media} messages (PCM16 at
 * 16 kHz resampled to 8 kHz, μ-law, base64), each followed by a {@code mark} named after the turn and
 * how much of its audio is sent by then ({@code <turnId>:<ms>}); {@code clear} when the answer is
 * interrupted. Twilio echoes a mark when the caller has heard the audio before it: {@link #played}
 * turns the echo back into a playback position, so the heard text follows the caller's ear.
 *
 * <pre>
 * agent audio (each TTS chunk) → media {payload} · mark {turnId:ms} · media · mark · …
 * audio.end                     → the resampler's tail as media · mark
 * audio.clear                   → clear (Twilio drops what it has not played, and echoes its marks)
 * </pre>
 * Session events and replies have no Twilio message: they stay in the session's event log, errors
 * about the stream's own input are logged here (Twilio has no error message).
 */
final class TwilioPlayback implements ClientChannel.Renderer {
  private static final Logger LOG = LoggerFactory.getLogger(TwilioPlayback.class);
  /** Marks sent and not yet echoed; a caller that never echoes costs no more than this many. */
  static final int MAX_PENDING_MARKS = 256;
  private final String streamSid;
  private final Consumer<String> send;
  private final Deque<Mark> pending = new ArrayDeque<>();
  /** The turn whose audio is being sent, with its resampler and the 16 kHz audio sent so far; null between answers. */
  private String turnId;
  private Resampler down;
  private long sentBytes;

  /** A mark sent after {@code ms} of turn {@code turnId}'s audio. */
  record Mark(String name, String turnId, long ms) {
  }

  /** Renders the stream {@code streamSid}; {@code send} writes a text message to it. */
  TwilioPlayback(String streamSid, Consumer<String> send) {
    this.streamSid = streamSid;
    this.send = send;
  }

  @Override
  public void event(ConversationEvent event, LoggedEvent logged) {
    if (event instanceof AudioStart start) {
      turnId = start.turnId();
      down = new Resampler(Pcm16.DEFAULT_RATE_HZ, G711.RATE_HZ);
      sentBytes = 0;
    } else if (event instanceof AudioEnd end && end.turnId().equals(turnId)) {
      media(down.flush());
      mark();
      turnId = null;
    } else if (event instanceof AudioClear clear && clear.turnId().equals(turnId)) {
      turnId = null;
      // Twilio echoes the marks of the audio it drops: they were not heard.
      pending.clear();
      send(new JsonObject().put("event", "clear").put("streamSid", streamSid));
    }
  }

  @Override
  public void audio(Buffer pcm) {
    if (turnId == null) {
      return;
    }
    sentBytes += pcm.length();
    media(down.process(pcm.getBytes()));
    mark();
  }

  /**
   * Twilio echoed the mark {@code name}: the audio before it has been played. Returns the mark, or
   * null for a name this stream did not send (or whose audio was cleared).
   */
  Mark played(String name) {
    boolean sent = pending.stream().anyMatch(mark -> mark.name().equals(name));
    if (!sent) {
      return null;
    }
    // Marks come back in the order they were sent: those before it were played too.
    for (Iterator<Mark> marks = pending.iterator(); marks.hasNext(); ) {
      Mark mark = marks.next();
      marks.remove();
      if (mark.name().equals(name)) {
        return mark;
      }
    }
    return null;
  }

  private void media(byte[] pcm8k) {
    if (pcm8k.length > 0) {
      send(new JsonObject().put("event", "media").put("streamSid", streamSid)
          .put("media", new JsonObject().put("payload", Base64.getEncoder().encodeToString(G711.ULAW.encode(pcm8k)))));
    }
  }

  private void mark() {
    long ms = Pcm16.msFor(Pcm16.DEFAULT_RATE_HZ, sentBytes);
    Mark mark = new Mark(turnId + ":" + ms, turnId, ms);
    if (pending.size() == MAX_PENDING_MARKS) {
      pending.removeFirst();
    }
    pending.addLast(mark);
    send(new JsonObject().put("event", "mark").put("streamSid", streamSid)
        .put("mark", new JsonObject().put("name", mark.name())));
  }

  private void send(JsonObject message) {
    send.accept(message.encode());
  }

  @Override
  public void logged(long seq, String json) {
    // A stream does not resume a session's event stream: nothing is replayed to Twilio.
  }

  @Override
  public void reply(String type, JsonObject fields) {
    if ("error".equals(type)) {
      LOG.debug("twilio stream {}: {} {}", streamSid, fields.getValue("code"), fields.getValue("message"));
    } else if ("session.ready".equals(type)) {
      LOG.debug("twilio stream {}: session ready, agent {}", streamSid, fields.getValue("agent"));
    }
  }
}
