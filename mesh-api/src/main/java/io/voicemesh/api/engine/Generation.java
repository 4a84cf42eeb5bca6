package io.voicemesh.api.engine;

import io.vertx.core.Future;

/** A running generation: completes with the whole answer, or fails with a {@code MeshException}. */
public interface Generation {

  Future<String> result();

  /** Stops the generation; {@link #result()} then fails or completes with what was produced. */
  void cancel();
}
