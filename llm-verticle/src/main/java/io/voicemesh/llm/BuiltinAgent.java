package io.voicemesh.llm;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.voicemesh.api.engine.Generation;
import io.voicemesh.api.engine.GenerationListener;
import io.voicemesh.api.engine.LlmEngine;
import io.voicemesh.api.engine.Toolbox;
import io.voicemesh.api.message.ChatMessage;
import io.voicemesh.api.message.GenerateRequest;
import io.voicemesh.api.message.ToolCall;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.OptionalLong;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code builtin}: a deterministic demo agent, so the mesh talks back with no model configured.
 * It greets, tells the time and date (tool {@code get_current_time}), does spoken arithmetic (tool
 * {@code calculate}), and otherwise repeats what it heard, streaming the answer a word at a time
 * like a model would.
 */
final class BuiltinAgent implements LlmEngine {
  private static final Pattern GREETING = Pattern.compile("\\b(hello|hi|hey|good (morning|afternoon|evening))\\b");
  private static final Pattern TIME = Pattern.compile("\\btime\\b");
  private static final Pattern DATE = Pattern.compile("\\b(date|what day|today)\\b");
  private static final Pattern OPERATOR = Pattern.compile("\\b(plus|minus|times|multiplied by|divided by|over)\\b");
  private final Vertx vertx;
  private final long deltaDelayMs;

  BuiltinAgent(Vertx vertx, long deltaDelayMs) {
    this.vertx = vertx;
    this.deltaDelayMs = deltaDelayMs;
  }

  @Override
  public Generation generate(GenerateRequest request, Toolbox tools, GenerationListener listener) {
    String heard = request.messages().stream()
        .filter(m -> m.role() == ChatMessage.Role.USER)
        .reduce((a, b) -> b)
        .map(ChatMessage::text)
        .orElse("");
    Streamed streamed = new Streamed(listener);
    answer(heard, tools, listener).onComplete(answer -> streamed.stream(answer.succeeded() ? answer.result()
        : "Sorry, I couldn't work that out: " + answer.cause().getMessage()));
    return streamed;
  }

  /** The whole answer for what the user said, asking tools where it needs facts or exact sums. */
  Future<String> answer(String heard, Toolbox tools, GenerationListener listener) {
    String text = heard.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9' -]", " ").replaceAll("\\s+", " ").trim();
    if (text.isEmpty()) {
      return Future.succeededFuture("Sorry, I didn't catch that.");
    }
    Future<String> sum = arithmetic(text, tools, listener);
    if (sum != null) {
      return sum;
    }
    if (TIME.matcher(text).find()) {
      return use(tools, listener, BuiltinTools.CURRENT_TIME.name(), new JsonObject())
          .map(now -> "The time is " + now.getString("time") + ".");
    }
    if (DATE.matcher(text).find()) {
      return use(tools, listener, BuiltinTools.CURRENT_TIME.name(), new JsonObject())
          .map(now -> "Today is " + now.getString("date") + ".");
    }
    if (GREETING.matcher(text).find()) {
      return Future.succeededFuture(
          "Hello! I'm the VoiceMesh demo agent. Ask me the time, the date, or a sum like twelve times seven.");
    }
    return Future.succeededFuture("You said: " + heard.trim() + ".");
  }

  private static Future<JsonObject> use(Toolbox tools, GenerationListener listener, String tool, JsonObject arguments) {
    return tools.run(new ToolCall("call_" + UUID.randomUUID().toString().substring(0, 8), tool, arguments), listener);
  }

  /**
   * "what is twelve times seven": the operator, the longest run of number words just before it and
   * the longest just after. Words further away are ignored, so recognition noise around the
   * numbers ("i want is six times seven") does not matter. Null when the text is no sum.
   */
  private static Future<String> arithmetic(String text, Toolbox tools, GenerationListener listener) {
    Matcher m = OPERATOR.matcher(text);
    if (!m.find()) {
      return null;
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
      return null;
    }
    long x = a.getAsLong();
    long y = b.getAsLong();
    String op = m.group(1).equals("over") ? "divided by" : m.group(1).equals("multiplied by") ? "times" : m.group(1);
    if (op.equals("divided by") && y == 0) {
      return Future.succeededFuture("I can't divide " + x + " by zero.");
    }
    return use(tools, listener, BuiltinTools.CALCULATE.name(), new JsonObject().put("a", x).put("op", op).put("b", y))
        .map(r -> x + " " + op + " " + y + " is " + r.getString("result") + ".");
  }

  private static List<String> words(String phrase) {
    String trimmed = phrase.trim();
    return trimmed.isEmpty() ? List.of() : Arrays.asList(trimmed.split("\\s+"));
  }

  /** Streams an answer a word at a time on timers, so it never blocks the event loop. */
  private final class Streamed implements Generation {
    private final Promise<String> result = Promise.promise();
    private final List<String> pieces = new ArrayList<>();
    private final GenerationListener listener;
    private boolean cancelled;
    private int next;
    private long timer = -1;

    Streamed(GenerationListener listener) {
      this.listener = listener;
    }

    void stream(String answer) {
      if (cancelled) {
        return;
      }
      Matcher word = Pattern.compile("\\S+\\s*").matcher(answer);
      while (word.find()) {
        pieces.add(word.group());
      }
      schedule();
    }

    private void schedule() {
      if (next == pieces.size()) {
        result.tryComplete(String.join("", pieces));
        return;
      }
      timer = vertx.setTimer(Math.max(1, deltaDelayMs), id -> {
        if (!result.future().isComplete()) {
          listener.delta(pieces.get(next++));
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
      cancelled = true;
      vertx.cancelTimer(timer);
      result.tryComplete(String.join("", pieces.subList(0, next)));
    }
  }
}
