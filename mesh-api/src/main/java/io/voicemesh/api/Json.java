package io.voicemesh.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.deser.std.StdDeserializer;
import com.fasterxml.jackson.databind.module.SimpleModule;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.util.List;
import io.vertx.core.json.jackson.VertxModule;
import java.util.Map;

/**
 * Maps the message records to and from the {@link JsonObject}s that travel on the event bus.
 * JSON keeps every node, and any future non-Java node, able to read every message; unknown fields
 * are ignored so a newer node can add fields without breaking an older one.
 */
public final class Json {
  private static final ObjectMapper MAPPER = new ObjectMapper()
      .registerModule(new VertxModule())
      // VertxModule writes JsonObject/JsonArray but does not read them back (Jackson would build an empty bean).
      .registerModule(new SimpleModule("voicemesh-json")
          .addDeserializer(JsonObject.class, new StdDeserializer<>(JsonObject.class) {
            @Override
            @SuppressWarnings("unchecked")
            public JsonObject deserialize(JsonParser p, DeserializationContext ctx) throws IOException {
              return new JsonObject(p.readValueAs(Map.class));
            }
          })
          .addDeserializer(JsonArray.class, new StdDeserializer<>(JsonArray.class) {
            @Override
            public JsonArray deserialize(JsonParser p, DeserializationContext ctx) throws IOException {
              return new JsonArray(p.readValueAs(List.class));
            }
          }))
      .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false)
      // Absent record fields are left out; nulls inside JSON values (metadata, tool arguments) are kept.
      .setDefaultPropertyInclusion(JsonInclude.Value.construct(JsonInclude.Include.NON_NULL,
          JsonInclude.Include.ALWAYS));

  private Json() {
  }

  /**
   * Builds and caches the mapping of each type (and of the types nested in it) now. Jackson builds
   * a type's serializer on its first use and loads its own classes doing so: on a cold JVM the
   * first voice turn spent over 100 ms of an event loop in that (seen by the blocked-thread checker).
   * Call it off the event loop before serving. Returns how many types it prepared.
   */
  public static int prepare(List<Class<?>> types) {
    // encode's own path: a record's fields through a token buffer into a Map.
    MAPPER.convertValue(Map.of("prepared", List.of(1, "two", Map.of())), Map.class);
    return prepareTypes(types);
  }

  private static int prepareTypes(List<Class<?>> types) {
    int prepared = 0;
    for (Class<?> type : types) {
      MAPPER.canSerialize(type);
      MAPPER.canDeserialize(MAPPER.constructType(type));
      prepared += 1 + prepareTypes(List.of(type.getDeclaredClasses()));
    }
    return prepared;
  }

  @SuppressWarnings("unchecked")
  public static JsonObject encode(Object message) {
    return new JsonObject(MAPPER.convertValue(message, Map.class));
  }

  /**
   * Decodes a message body; a body that does not fit the record fails with {@code bad_request}.
   */
  public static <T> T decode(Object body, Class<T> type) {
    if (!(body instanceof JsonObject json)) {
      throw new MeshException(ErrorCode.BAD_REQUEST, "expected a JSON object for " + type.getSimpleName());
    }
    try {
      return MAPPER.convertValue(json, type);
    } catch (IllegalArgumentException e) {
      throw new MeshException(ErrorCode.BAD_REQUEST, "malformed " + type.getSimpleName() + ": " + e.getMessage());
    }
  }
}
