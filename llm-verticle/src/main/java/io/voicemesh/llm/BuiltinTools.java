package io.voicemesh.llm;

import io.vertx.core.Future;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.voicemesh.api.Addresses;
import io.voicemesh.api.Bus;
import io.voicemesh.api.ErrorCode;
import io.voicemesh.api.MeshException;
import io.voicemesh.api.message.ToolSpec;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Clock;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The tools every LLM node serves: the current time, and arithmetic on two numbers. */
final class BuiltinTools {
  static final ToolSpec CURRENT_TIME = new ToolSpec("get_current_time",
      "The current local time and date where the agent runs.",
      new JsonObject().put("type", "object").put("properties", new JsonObject()));
  static final ToolSpec CALCULATE = new ToolSpec("calculate",
      "Exact arithmetic on two numbers: a op b.",
      new JsonObject().put("type", "object")
          .put("properties", new JsonObject()
              .put("a", new JsonObject().put("type", "number"))
              .put("op", new JsonObject().put("type", "string")
                  .put("enum", new JsonArray().add("plus").add("minus").add("times").add("divided by")))
              .put("b", new JsonObject().put("type", "number")))
          .put("required", new JsonArray().add("a").add("op").add("b")));
  static final Map<String, ToolSpec> SPECS = Map.of(CURRENT_TIME.name(), CURRENT_TIME, CALCULATE.name(), CALCULATE);

  private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("h:mm a", Locale.US);
  private static final DateTimeFormatter DATE = DateTimeFormatter.ofPattern("EEEE, MMMM d, yyyy", Locale.US);

  private final Clock clock;

  BuiltinTools(Clock clock) {
    this.clock = clock;
  }

  List<MessageConsumer<Object>> serve(EventBus bus) {
    return List.of(
        Bus.serve(bus, Addresses.tool(CURRENT_TIME.name()), JsonObject.class, args -> Future.succeededFuture(currentTime())),
        Bus.serve(bus, Addresses.tool(CALCULATE.name()), JsonObject.class, args -> Future.succeededFuture(calculate(args))));
  }

  JsonObject currentTime() {
    ZonedDateTime now = ZonedDateTime.now(clock);
    return new JsonObject().put("time", TIME.format(now)).put("date", DATE.format(now))
        .put("timeZone", clock.getZone().getId());
  }

  static JsonObject calculate(JsonObject args) {
    if (!(args.getValue("a") instanceof Number a) || !(args.getValue("b") instanceof Number b)) {
      throw new MeshException(ErrorCode.BAD_REQUEST, "calculate needs numbers a and b");
    }
    BigDecimal x = new BigDecimal(a.toString());
    BigDecimal y = new BigDecimal(b.toString());
    BigDecimal result = switch (String.valueOf(args.getValue("op"))) {
      case "plus" -> x.add(y);
      case "minus" -> x.subtract(y);
      case "times" -> x.multiply(y);
      case "divided by" -> {
        if (y.signum() == 0) {
          throw new MeshException(ErrorCode.BAD_REQUEST, "division by zero");
        }
        yield x.divide(y, 6, RoundingMode.HALF_UP);
      }
      default -> throw new MeshException(ErrorCode.BAD_REQUEST, "op must be plus, minus, times or divided by");
    };
    return new JsonObject().put("result", result.stripTrailingZeros().toPlainString());
  }
}
