package io.voicemesh.api;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Arrays;

/**
 * The mesh's stable error codes: the {@code code} of a client {@code error} event, the HTTP status
 * of the same failure on REST, and the failure code of an event-bus reply. Transient errors may
 * succeed when retried; the others will fail again with the same input.
 */
public enum ErrorCode {
  BAD_FRAME("bad_frame", 400, 4000, false),
  UNKNOWN_TYPE("unknown_type", 400, 4001, false),
  FRAME_TOO_LARGE("frame_too_large", 413, 4002, false),
  BAD_AUDIO("bad_audio", 400, 4003, false),
  BAD_REQUEST("bad_request", 400, 4004, false),
  UNAUTHORIZED("unauthorized", 401, 4010, false),
  FORBIDDEN("forbidden", 403, 4030, false),
  SESSION_NOT_FOUND("session_not_found", 404, 4040, false),
  NOT_FOUND("not_found", 404, 4041, false),
  /** An agent name that no LLM node serves ({@code ?agent=}, {@code POST /api/v1/sessions}). */
  AGENT_NOT_FOUND("agent_not_found", 404, 4042, false),
  /** A WebSocket that sent nothing (not even a ping) for the idle timeout; closed (1001). */
  IDLE_TIMEOUT("idle_timeout", 408, 4080, true),
  TAKEN_OVER("taken_over", 409, 4090, false),
  SESSION_ENDED("session_ended", 410, 4100, false),
  RATE_LIMITED("rate_limited", 429, 4290, true),
  /** A user or token holds its share of a resource already (connections, sessions, STT streams). */
  QUOTA_EXCEEDED("quota_exceeded", 429, 4291, true),
  CAPACITY("capacity", 503, 5030, true),
  ENGINE_UNAVAILABLE("engine_unavailable", 503, 5031, true),
  SLOW_CONSUMER("slow_consumer", 503, 5032, true),
  /** The event log cannot be written for longer than the gateway's buffer holds (or a new session cannot be opened). */
  STORAGE_UNAVAILABLE("storage_unavailable", 503, 5033, true),
  /** The node is shutting down; the client is told where to resume and closed (1001). */
  GOING_AWAY("going_away", 503, 5034, true),
  INTERNAL("internal", 500, 5000, true);

  private final String wire;
  private final int httpStatus;
  private final int busCode;
  private final boolean transientFailure;

  ErrorCode(String wire, int httpStatus, int busCode, boolean transientFailure) {
    this.wire = wire;
    this.httpStatus = httpStatus;
    this.busCode = busCode;
    this.transientFailure = transientFailure;
  }

  /** The code as clients see it, e.g. {@code frame_too_large}. */
  @JsonValue
  public String wire() {
    return wire;
  }

  public int httpStatus() {
    return httpStatus;
  }

  /** The failure code used with {@code Message.fail}. */
  public int busCode() {
    return busCode;
  }

  public boolean isTransient() {
    return transientFailure;
  }

  @JsonCreator
  public static ErrorCode ofWire(String wire) {
    return Arrays.stream(values()).filter(c -> c.wire.equals(wire)).findFirst().orElse(INTERNAL);
  }

  public static ErrorCode ofBusCode(int busCode) {
    return Arrays.stream(values()).filter(c -> c.busCode == busCode).findFirst().orElse(INTERNAL);
  }
}
