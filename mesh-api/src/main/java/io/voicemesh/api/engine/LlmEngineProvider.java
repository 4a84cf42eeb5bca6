package io.voicemesh.api.engine;

/** Service interface for language-model engines. */
public interface LlmEngineProvider extends EngineProvider<LlmEngine> {
}
