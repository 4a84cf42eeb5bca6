package io.voicemesh.llm;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.voicemesh.api.engine.Generation;
import io.voicemesh.api.engine.LlmEngine;
import io.voicemesh.api.message.ChatMessage;
import io.voicemesh.api.message.GenerateRequest;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Clock;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code builtin}: a deterministic demo agent, so the mesh talks back with no model configured.
 * It greets, tells the time and date, does spoken arithmetic, and otherwise repeats what it heard,
 * streaming the answer a word at a time like a model would.
 */
final class BuiltinAgent implements LlmEngine {
  private static final Pattern GREETING = Pattern.compile("\\b(hello|hi|hey|good (morning|afternoon|evening))\\b");
  private static final Pattern TIME = Pattern.compile("\\btime\\b");
  private static final Pattern DATE = Pattern.compile("\\b(date|what day|today)\\b");
  private static final Pattern OPERATOR = Pattern.compile("\\b(plus|minus|times|multiplied by|divided by|over)\\b");
  private static final DateTimeFormatter SPOKEN_TIME = DateTimeFormatter.ofPattern("h:mm a", Locale.US);
  private static final DateTimeFormatter SPOKEN_DATE = DateTimeFormatter.ofPattern("EEEE, MMMM d, yyyy", Locale.US);

  private final Vertx vertx;
  private final Clock clock;
  private final long deltaDelayMs;

  BuiltinAgent(Vertx vertx, Clock clock, long deltaDelayMs) {
    this.vertx = vertx;
    this.clock = clock;
    this.deltaDelayMs = deltaDelayMs;
  }

  @Override
  public Generation generate(GenerateRequest request, Handler<String> onDelta) {
    String heard = request.messages().stream()
        .filter(m -> m.role() == ChatMessage.Role.USER)
        .reduce((a, b) -> b)
        .map(ChatMessage::text)
        .orElse("");
    return new Streamed(answer(heard), onDelta);
  }

  /** The whole answer for what the user said. */
  String answer(String heard) {
    String text = heard.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9' -]", " ").replaceAll("\\s+", " ").trim();
    if (text.isEmpty()) {
      return "Sorry, I didn't catch that.";
    }
    Optional<String> sum = arithmetic(text);
    if (sum.isPresent()) {
      return sum.get();
    }
    ZonedDateTime now = ZonedDateTime.now(clock);
    if (TIME.matcher(text).find()) {
      return "The time is " + SPOKEN_TIME.format(now) + ".";
    }
    if (DATE.matcher(text).find()) {
      return "Today is " + SPOKEN_DATE.format(now) + ".";
    }
    if (GREETING.matcher(text).find()) {
      return "Hello! I'm the VoiceMesh demo agent. Ask me the time, the date, or a sum like twelve times seven.";
    }
    return "You said: " + heard.trim() + ".";
  }

  /**
   * "what is twelve times seven": the operator, the longest run of number words just before it and
   * the longest just after. Words further away are ignored, so recognition noise around the
   * numbers ("i want is six times seven") does not matter.
   */
  private static Optional<String> arithmetic(String text) {
    Matcher m = OPERATOR.matcher(text);
    if (!m.find()) {
      return Optional.empty();
    }
    List<String> before = words(text.substring(0, m.start()));
    List<String> after = words(text.substring(m.end()));
    OptionalLong a = OptionalLong.empty();
    for (int from = 0; from < before.size() && a.isEmpty(); from++) {
      a = SpokenNumbers.parse(before.subList(from, before.size()));
    }
    OptionalLong b = OptionalLong.empty();
    for (int to = after.size(); to > 0 && b.isEmpty(); to--) {
      b = SpokenNumbers.parse(after.subList(0, to));
    }
    if (a.isEmpty() || b.isEmpty()) {
      return Optional.empty();
    }
    long x = a.getAsLong();
    long y = b.getAsLong();
    String op = m.group(1);
    String result = switch (op) {
      case "plus" -> Long.toString(x + y);
      case "minus" -> Long.toString(x - y);
      case "times", "multiplied by" -> Long.toString(x * y);
      default -> y == 0 ? null
          : BigDecimal.valueOf(x).divide(BigDecimal.valueOf(y), 2, RoundingMode.HALF_UP).stripTrailingZeros().toPlainString();
    };
    if (result == null) {
      return Optional.of("I can't divide " + x + " by zero.");
    }
    String spokenOp = op.equals("over") ? "divided by" : op;
    return Optional.of(x + " " + spokenOp + " " + y + " is " + result + ".");
  }

  private static List<String> words(String phrase) {
    String trimmed = phrase.trim();
    return trimmed.isEmpty() ? List.of() : Arrays.asList(trimmed.split("\\s+"));
  }

  /** Streams a fixed answer a word at a time on timers, so it never blocks the event loop. */
  private final class Streamed implements Generation {
    private final Promise<String> result = Promise.promise();
    private final List<String> pieces = new ArrayList<>();
    private final Handler<String> onDelta;
    private final String answer;
    private int next;
    private long timer = -1;

    Streamed(String answer, Handler<String> onDelta) {
      this.answer = answer;
      this.onDelta = onDelta;
      Matcher word = Pattern.compile("\\S+\\s*").matcher(answer);
      while (word.find()) {
        pieces.add(word.group());
      }
      schedule();
    }

    private void schedule() {
      if (next == pieces.size()) {
        result.tryComplete(answer);
        return;
      }
      timer = vertx.setTimer(Math.max(1, deltaDelayMs), id -> {
        if (!result.future().isComplete()) {
          onDelta.handle(pieces.get(next++));
          schedule();
        }
      });
    }

    @Override
    public Future<String> result() {
      return result.future();
    }

    @Override
    public void cancel() {
      vertx.cancelTimer(timer);
      result.tryComplete(String.join("", pieces.subList(0, next)));
    }
  }
}
