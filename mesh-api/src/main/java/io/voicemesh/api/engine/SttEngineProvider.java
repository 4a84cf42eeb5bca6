package io.voicemesh.api.engine;

/** Service interface for speech-to-text engines. */
public interface SttEngineProvider extends EngineProvider<SttEngine> {
}
