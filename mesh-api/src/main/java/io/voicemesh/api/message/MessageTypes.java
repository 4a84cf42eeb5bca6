package io.voicemesh.api.message;

import java.util.List;

/** Every message type of this package, for {@link io.voicemesh.api.Json#prepare} (a test keeps the list whole). */
public final class MessageTypes {
  public static final List<Class<?>> ALL = List.of(
      AudioChunkHeader.class,
      ChatMessage.class,
      ContextReply.class,
      ContextRequest.class,
      EventAppend.class,
      EventAppended.class,
      EventPage.class,
      EventReplay.class,
      FrameStamp.class,
      GenerateRequest.class,
      KafkaRelayStatus.class,
      LlmEvent.class,
      LoggedEvent.class,
      MessageAppend.class,
      MessageDelete.class,
      NodeLeft.class,
      NodeReport.class,
      RoleStatus.class,
      SessionActivity.class,
      SessionEnd.class,
      SessionGet.class,
      SessionInfo.class,
      SessionList.class,
      SessionOpen.class,
      SessionPage.class,
      SessionStatusRequest.class,
      SessionTouch.class,
      SttControl.class,
      SttEvent.class,
      SttOpen.class,
      SttOpened.class,
      SynthesizeDone.class,
      SynthesizeRequest.class,
      ToolCall.class,
      ToolSpec.class,
      TurnCancel.class,
      WriterRelease.class);

  private MessageTypes() {
  }
}
