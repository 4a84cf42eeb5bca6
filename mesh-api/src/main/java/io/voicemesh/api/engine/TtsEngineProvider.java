package io.voicemesh.api.engine;

/** Service interface for text-to-speech engines. */
public interface TtsEngineProvider extends EngineProvider<TtsEngine> {
}
