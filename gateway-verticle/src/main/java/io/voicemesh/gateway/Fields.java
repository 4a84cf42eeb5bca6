package io.voicemesh.gateway;

import io.vertx.core.json.JsonObject;
import io.voicemesh.api.ErrorCode;
import io.voicemesh.api.MeshException;

/**
 * Reads the fields of a client's message, refusing ({@code bad_request}) a field that is present
 * but null, of the wrong type, or out of range; an absent field keeps its current value.
 */
final class Fields {
  private Fields() {
  }

  /** A whole number from {@code min} to {@code max}; {@code current} when absent. */
  static int integer(JsonObject message, String name, int current, int min, int max) {
    if (!message.containsKey(name)) {
      return current;
    }
    if (message.getValue(name) instanceof Number number) {
      double value = number.doubleValue();
      if (value == Math.rint(value) && value >= min && value <= max) {
        return (int) value;
      }
    }
    throw new MeshException(ErrorCode.BAD_REQUEST, name + " must be a whole number from " + min + " to " + max);
  }

  /** A text of 1 to {@code maxLength} characters without control characters; {@code current} when absent. */
  static String text(JsonObject message, String name, String current, int maxLength) {
    if (!message.containsKey(name)) {
      return current;
    }
    if (message.getValue(name) instanceof String text && !text.isEmpty() && text.length() <= maxLength
        && text.chars().noneMatch(Character::isISOControl)) {
      return text;
    }
    throw new MeshException(ErrorCode.BAD_REQUEST, name + " must be a text of 1 to " + maxLength + " characters");
  }

  /** A list of at most {@code maxItems} texts, each as {@link #text} checks it; {@code current} when absent. */
  static java.util.List<String> texts(JsonObject message, String name, java.util.List<String> current, int maxItems,
      int maxLength) {
    if (!message.containsKey(name)) {
      return current;
    }
    if (message.getValue(name) instanceof io.vertx.core.json.JsonArray array && array.size() <= maxItems
        && array.stream().allMatch(item -> item instanceof String text && !text.isEmpty() && text.length() <= maxLength
            && text.chars().noneMatch(Character::isISOControl))) {
      return array.stream().map(String.class::cast).toList();
    }
    throw new MeshException(ErrorCode.BAD_REQUEST, name + " must be a list of at most " + maxItems + " texts of 1 to "
        + maxLength + " characters");
  }

  /** The audio of field {@code name}: base64 text, decoded; refused ({@code bad_audio}) when missing or not base64. */
  static byte[] base64Audio(JsonObject message, String name) {
    if (!(message.getValue(name) instanceof String text)) {
      throw new MeshException(ErrorCode.BAD_AUDIO, name + " must be the audio as base64 text");
    }
    try {
      return java.util.Base64.getDecoder().decode(text);
    } catch (IllegalArgumentException e) {
      throw new MeshException(ErrorCode.BAD_AUDIO, name + " is not valid base64");
    }
  }
}
