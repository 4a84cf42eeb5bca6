package io.voicemesh.gateway;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.voicemesh.api.ErrorCode;
import io.voicemesh.api.MeshException;
import io.voicemesh.api.audio.G711;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The opening of a {@code /v1/twilio} stream (Twilio Media Streams, {@code <Connect><Stream>}).
 * Twilio sets no headers and drops a query string from the stream's URL, so what the call asks for
 * comes in its {@code start} message's {@code customParameters}: {@code token}, {@code sessionId},
 * {@code agent}. The upgrade is therefore accepted first (after checking {@code ?token=} when a
 * client does send one), and the socket is read until {@code start}, at most
 * {@link #START_TIMEOUT_MS}; only then is the token verified and the session opened, as for
 * {@code /v1/voice}. The socket is paused at {@code start}: the media that follows waits for the
 * conversation. Twilio has no error message: a refusal closes the socket (1008, or 1013 when it is
 * transient) with the error's code as the reason.
 *
 * <pre>
 * upgrade ─▶ connected ─▶ start {streamSid, callSid, mediaFormat, customParameters}
 *         ─▶ token · session · quotas ─▶ {@link Conversation} with {@link TwilioProtocol}
 * </pre>
 */
final class TwilioUpgrade {
  private static final Logger LOG = LoggerFactory.getLogger(TwilioUpgrade.class);
  static final String PATH = "/v1/twilio";
  /** Twilio sends {@code connected} and {@code start} as soon as the socket opens. */
  static final long START_TIMEOUT_MS = 10_000;

  private TwilioUpgrade() {
  }

  /** What the stream's {@code start} message says. */
  record Start(String streamSid, String callSid, JsonObject customParameters) {
    /** A custom parameter given as text, or null. */
    String parameter(String name) {
      return customParameters.getValue(name) instanceof String value && !value.isBlank() ? value : null;
    }

    /** The session the call asks for: {@code sessionId} attaches it to an existing one, {@code agent} picks a new one's agent. */
    VoiceRequest request(Caller caller, GatewaySettings settings) {
      String sessionId = parameter("sessionId") != null ? parameter("sessionId") : caller.sessionScope();
      if (sessionId != null) {
        caller.mayReach(sessionId);
      }
      return new VoiceRequest(caller, sessionId, null, false, settings.agent(parameter("agent")), G711.RATE_HZ);
    }
  }

  /**
   * Twilio's {@code start} message, checked: a stream of μ-law at 8 kHz, mono, with its
   * {@code streamSid}. Throws {@code bad_request} for anything else.
   */
  static Start parseStart(JsonObject message) {
    Object body = message.getValue("start");
    if (!(body instanceof JsonObject start) || !(start.getValue("streamSid") instanceof String streamSid)
        || streamSid.isBlank()) {
      throw new MeshException(ErrorCode.BAD_REQUEST, "start needs start.streamSid");
    }
    Object format = start.getValue("mediaFormat");
    if (format instanceof JsonObject media && (!"audio/x-mulaw".equals(media.getValue("encoding"))
        || !(media.getValue("sampleRate") instanceof Number rate) || rate.intValue() != G711.RATE_HZ
        || !(media.getValue("channels") instanceof Number channels) || channels.intValue() != 1)) {
      throw new MeshException(ErrorCode.BAD_AUDIO, "only audio/x-mulaw at 8000 Hz, 1 channel is supported; got " + media.encode());
    }
    Object parameters = start.getValue("customParameters");
    return new Start(streamSid, start.getValue("callSid") instanceof String callSid ? callSid : null,
        parameters instanceof JsonObject given ? given : new JsonObject());
  }

  /**
   * Reads the accepted socket until its {@code start} message, then pauses it. Messages before
   * {@code start} ({@code connected}, early media, anything malformed) are ignored; the future
   * fails when the socket closes, sends nothing usable within {@link #START_TIMEOUT_MS}, or its
   * {@code start} is refused.
   */
  static Future<Start> awaitStart(Vertx vertx, ServerWebSocket socket, GatewaySettings settings) {
    Promise<Start> started = Promise.promise();
    long timer = vertx.setTimer(START_TIMEOUT_MS, t -> started.tryFail(new MeshException(ErrorCode.BAD_REQUEST,
        "no start message within " + START_TIMEOUT_MS + " ms")));
    socket.closeHandler(v -> started.tryFail(new MeshException(ErrorCode.BAD_REQUEST, "the stream closed before it started")));
    socket.exceptionHandler(e -> started.tryFail(new MeshException(ErrorCode.BAD_REQUEST, "the stream failed: " + e)));
    socket.frameHandler(new MessageAssembler(settings.maxTextFrameBytes(), settings.maxBinaryFrameBytes(),
        new MessageAssembler.Sink() {
          @Override
          public void text(String message) {
            JsonObject json;
            try {
              json = new JsonObject(message);
            } catch (DecodeException | ClassCastException e) {
              LOG.debug("twilio: ignored a message that is not a JSON object before start");
              return;
            }
            if ("start".equals(json.getValue("event"))) {
              socket.pause();
              try {
                started.tryComplete(parseStart(json));
              } catch (MeshException e) {
                started.tryFail(e);
              }
            } else if (!"connected".equals(json.getValue("event"))) {
              LOG.debug("twilio: ignored {} before start", json.getValue("event"));
            }
          }

          @Override
          public void binary(Buffer message) {
            LOG.debug("twilio: ignored a binary message before start");
          }

          @Override
          public void oversized(boolean text, long bytes, int limit) {
            started.tryFail(new MeshException(ErrorCode.FRAME_TOO_LARGE, "messages are limited to " + limit + " bytes"));
          }

          @Override
          public void invalidText() {
            started.tryFail(new MeshException(ErrorCode.BAD_FRAME, "a text message that is not UTF-8"));
          }
        }));
    return started.future().andThen(done -> {
      vertx.cancelTimer(timer);
      socket.frameHandler(null);
      socket.exceptionHandler(null);
    });
  }

  /** Twilio has no error message: the refusal is the close code (1013 when transient, else 1008) and the error's code. */
  static void refuse(ServerWebSocket socket, Throwable failure) {
    MeshException error = GatewayVerticle.clientSafe(failure);
    LOG.info("twilio stream refused: {} {}", error.code().wire(), error.getMessage());
    if (!socket.isClosed()) {
      socket.close((short) (error.code().isTransient() ? 1013 : 1008), error.code().wire());
    }
  }
}
