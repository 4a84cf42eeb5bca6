package io.voicemesh.api.message;

/** An STT worker's acceptance of a stream: where to send frames, and which node serves them. */
public record SttOpened(String streamAddress, String node) {
}
