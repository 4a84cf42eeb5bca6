package io.voicemesh.launcher;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** A real HTTP client of the sessions API (the JDK's), speaking JSON with an optional Authorization header. */
final class Rest {
  private static final Duration TIMEOUT = Duration.ofSeconds(15);
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(TIMEOUT).build();
  private final int port;

  Rest(int port) {
    this.port = port;
  }

  record Response(int status, String text) {
    JsonObject json() {
      return new JsonObject(text);
    }

    JsonArray sessions() {
      return json().getJsonArray("sessions");
    }
  }

  /** {@code authorization} is the whole header value (e.g. "Bearer x"), or null for none. */
  Response call(String method, String path, String authorization, String body) throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .timeout(TIMEOUT)
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    if (body != null) {
      request.header("Content-Type", "application/json");
    }
    if (authorization != null) {
      request.header("Authorization", authorization);
    }
    HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    return new Response(response.statusCode(), response.body());
  }

  Response get(String path, String token) throws Exception {
    return call("GET", path, "Bearer " + token, null);
  }

  Response post(String path, String token, JsonObject body) throws Exception {
    return call("POST", path, "Bearer " + token, body.encode());
  }

  Response delete(String path, String token) throws Exception {
    return call("DELETE", path, "Bearer " + token, null);
  }
}
