/**
 * The contract every VoiceMesh module shares: event-bus addresses, message records, error codes,
 * audio helpers and the three engine interfaces. Verticle modules depend on this module only and
 * meet each other on the event bus.
 *
 * <pre>
 *  client ──WebSocket──▶ gateway (one Conversation per connection)
 *     PCM16LE frames ──▶ stt.node.&lt;node&gt;.streams (stream id in a header) ──▶ STT worker (VAD, endpointing, engine)
 *                                  speech_started / transcript.partial / transcript.final
 *                     ◀── gateway.conversation.&lt;connection&gt;.stt ◀──┘
 *     TranscriptFinal ─▶ session.message.add, session.context
 *                     ─▶ llm.generate ──▶ LLM worker ── LlmDelta… LlmDone ──▶ ….llm
 *     SentenceChunker ─▶ tts.synthesize (one per sentence) ──▶ TTS worker
 *                     ◀── ….tts  PCM16LE chunks ≤ 100 ms, tagged (turn, sentence, chunk)
 *  client ◀── JSON events (type, seq, sessionId, ts) and paced binary agent audio
 * </pre>
 */
package io.voicemesh.api;
