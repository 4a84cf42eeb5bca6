/*
 * VoiceMesh browser client (no build step, no dependencies).
 *
 * mic ─getUserMedia─▶ AudioWorklet (capture-worklet.js: resample to 16 kHz, 20 ms PCM16LE frames)
 *     ─ws.send(binary)─▶ /v1/voice ─▶ JSON events + PCM16LE agent audio ─▶ transcript UI + gapless playback
 */
(() => {
  "use strict";

  const TARGET_RATE = 16000;
  const FRAME_SAMPLES = 320; // 20 ms at 16 kHz = 640 bytes
  const SESSION_KEY = "voicemesh.sessionId";
  const LOG_MAX = 200;
  const PING_EVERY_MS = 10000;
  const PLAYBACK_MARGIN_S = 0.06;

  const $ = (id) => document.getElementById(id);
  const ui = {
    start: $("start"),
    stop: $("stop"),
    commit: $("commit"),
    cancel: $("cancel"),
    mute: $("mute"),
    resume: $("resume"),
    resumeId: $("resume-id"),
    status: $("status"),
    dot: $("status-dot"),
    meter: $("meter-fill"),
    sessionInfo: $("session-info"),
    errors: $("errors"),
    transcript: $("transcript"),
    placeholder: $("placeholder"),
    agent: $("agent"),
    token: $("token"),
    silence: $("silence"),
    log: $("log"),
    logCount: $("log-count"),
    logClear: $("log-clear"),
    stats: $("stats"),
  };

  /** The live connection, or null. Every callback checks it is still the current one. */
  let conn = null;
  let agentMuted = false;
  const logLines = [];
  let logDirty = false;

  // ---------------------------------------------------------------- helpers

  function clock() {
    const d = new Date();
    const p = (n, w = 2) => String(n).padStart(w, "0");
    return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
  }

  const TOKEN_KEY = "voicemesh.token";
  const LAST_SEQ_KEY = "voicemesh.lastSeq";

  /** The access token: from the address (#token=…, as the server's start-up line prints it), else as stored. */
  function initToken() {
    const fromHash = new URLSearchParams(location.hash.slice(1)).get("token");
    let token = fromHash;
    try {
      if (fromHash) sessionStorage.setItem(TOKEN_KEY, fromHash);
      else token = sessionStorage.getItem(TOKEN_KEY);
    } catch (e) {
      /* storage unavailable: the field still works */
    }
    if (fromHash) history.replaceState(null, "", location.pathname + location.search);
    if (token) ui.token.value = token;
  }

  function storedLastSeq() {
    try {
      return Number(sessionStorage.getItem(LAST_SEQ_KEY) || "0");
    } catch (e) {
      return 0;
    }
  }

  function storeLastSeq(seq) {
    try {
      sessionStorage.setItem(LAST_SEQ_KEY, String(seq));
    } catch (e) {
      /* ignore */
    }
  }

  function storedSessionId() {
    try {
      return sessionStorage.getItem(SESSION_KEY);
    } catch (e) {
      return null;
    }
  }

  function storeSessionId(id) {
    try {
      if (id) sessionStorage.setItem(SESSION_KEY, id);
    } catch (e) {
      /* storage unavailable: resume just isn't offered */
    }
  }

  function nearBottom(el) {
    return el.scrollHeight - el.scrollTop - el.clientHeight < 80;
  }

  function withScroll(fn) {
    const stick = nearBottom(ui.transcript);
    const result = fn();
    if (stick) ui.transcript.scrollTop = ui.transcript.scrollHeight;
    return result;
  }

  // ---------------------------------------------------------------- event log

  function log(direction, payload) {
    const text = typeof payload === "string" ? payload : JSON.stringify(payload);
    logLines.push(`${clock()} ${direction} ${text}`);
    if (logLines.length > LOG_MAX) logLines.splice(0, logLines.length - LOG_MAX);
    if (!logDirty) {
      logDirty = true;
      requestAnimationFrame(renderLog);
    }
  }

  function renderLog() {
    logDirty = false;
    ui.logCount.textContent = logLines.length ? `(${logLines.length})` : "";
    const details = ui.log.closest("details");
    if (details && !details.open) return;
    const stick = ui.log.scrollHeight - ui.log.scrollTop - ui.log.clientHeight < 40;
    ui.log.textContent = logLines.join("\n");
    if (stick) ui.log.scrollTop = ui.log.scrollHeight;
  }

  // ---------------------------------------------------------------- errors

  function showError(code, message) {
    const item = document.createElement("div");
    item.className = "error-item";
    const t = document.createElement("time");
    t.textContent = clock().slice(0, 8);
    const c = document.createElement("code");
    c.textContent = `${code}:`;
    const m = document.createElement("span");
    m.textContent = message || "";
    item.append(t, c, m);
    ui.errors.append(item);
    while (ui.errors.children.length > 5) ui.errors.firstChild.remove();
  }

  // ---------------------------------------------------------------- transcript

  function hidePlaceholder() {
    if (ui.placeholder) {
      ui.placeholder.remove();
      ui.placeholder = null;
    }
  }

  function makeMsg(kind, who) {
    hidePlaceholder();
    const el = document.createElement("div");
    el.className = `msg ${kind}`;
    const label = document.createElement("span");
    label.className = "who";
    label.textContent = who;
    const bubble = document.createElement("div");
    bubble.className = "bubble";
    const note = document.createElement("span");
    note.className = "note";
    note.hidden = true;
    el.append(label, bubble, note);
    return { el, bubble, note };
  }

  function systemNote(text) {
    withScroll(() => {
      hidePlaceholder();
      const p = document.createElement("div");
      p.className = "system-note";
      p.textContent = text;
      ui.transcript.append(p);
    });
  }

  function showPartial(text) {
    withScroll(() => {
      if (!conn.partial) {
        conn.partial = makeMsg("user partial", "You (listening…)");
        ui.transcript.append(conn.partial.el);
      }
      conn.partial.bubble.textContent = text;
    });
  }

  function dropPartial() {
    if (conn && conn.partial) {
      conn.partial.el.remove();
      conn.partial = null;
    }
  }

  function addUserText(text) {
    withScroll(() => {
      const m = makeMsg("user", "You");
      m.bubble.textContent = text;
      ui.transcript.append(m.el);
    });
  }

  function agentTurn(turnId) {
    let turn = conn.turns.get(turnId);
    if (!turn) {
      turn = makeMsg("agent thinking", conn.agentName || "Agent");
      turn.text = "";
      turn.bubble.textContent = "…";
      conn.turns.set(turnId, turn);
      withScroll(() => {
        // Keep a live partial (the user already talking again) below the agent's answer.
        if (conn.partial) ui.transcript.insertBefore(turn.el, conn.partial.el);
        else ui.transcript.append(turn.el);
      });
    }
    return turn;
  }

  function setAgentText(turn, text, streaming) {
    withScroll(() => {
      turn.text = text;
      turn.el.classList.remove("thinking");
      turn.el.classList.toggle("streaming", streaming);
      turn.bubble.textContent = text;
    });
  }

  function noteTurn(turn, text, bad) {
    withScroll(() => {
      turn.note.hidden = false;
      turn.note.classList.toggle("bad", !!bad);
      turn.note.textContent = text;
    });
  }

  // ---------------------------------------------------------------- status

  function setStatus(text, kind) {
    ui.status.textContent = text;
    ui.dot.className = `dot ${kind}`;
  }

  function renderStatus() {
    if (!conn) return;
    if (!conn.ready) {
      setStatus(conn.phase || "Connecting…", "connecting");
    } else if (conn.agentSpeaking) {
      setStatus(agentMuted ? "Agent speaking (muted)" : "Agent speaking", "agent");
    } else if (conn.userSpeaking) {
      setStatus("You are speaking", "user");
    } else if (conn.thinking) {
      setStatus("Agent is thinking…", "thinking");
    } else {
      setStatus("Listening — go ahead and talk", "listening");
    }
  }

  function renderButtons() {
    const live = !!conn;
    const ready = live && conn.ready;
    ui.start.disabled = live;
    ui.stop.disabled = !live;
    ui.commit.disabled = !ready;
    ui.cancel.disabled = !ready;
    ui.mute.disabled = !ready;
    ui.agent.disabled = live;
    const id = storedSessionId();
    ui.resume.disabled = live || !id;
    if (!id) ui.resume.checked = false;
    ui.resumeId.textContent = id ? id.slice(0, 8) : "";
    ui.mute.setAttribute("aria-pressed", String(agentMuted));
    ui.mute.textContent = agentMuted ? "Unmute agent" : "Mute agent";
  }

  function renderStats() {
    if (!conn) return;
    const sent = (conn.sentBytes / 2 / TARGET_RATE).toFixed(1);
    const got = (conn.receivedBytes / 2 / (conn.outputRate || TARGET_RATE)).toFixed(1);
    const rtt = conn.rttMs == null ? "–" : `${conn.rttMs} ms`;
    ui.stats.textContent = `mic sent ${sent} s · agent audio received ${got} s · ping ${rtt}`;
  }

  // ---------------------------------------------------------------- sending

  function sendJson(message) {
    if (!conn || !conn.ws || conn.ws.readyState !== WebSocket.OPEN) return false;
    conn.ws.send(JSON.stringify(message));
    log("→", message);
    return true;
  }

  // ---------------------------------------------------------------- playback

  function playPcm(data) {
    const c = conn;
    if (!c || !c.ctx || c.ctx.state === "closed") return;
    const samples = data.byteLength >> 1;
    c.receivedBytes += data.byteLength;
    if (samples === 0) return;
    const view = new DataView(data);
    const f32 = new Float32Array(samples);
    for (let i = 0; i < samples; i++) f32[i] = view.getInt16(i * 2, true) / 32768;
    const buffer = c.ctx.createBuffer(1, samples, c.outputRate || TARGET_RATE);
    buffer.copyToChannel(f32, 0);
    const src = c.ctx.createBufferSource();
    src.buffer = buffer;
    src.connect(c.playGain);
    const now = c.ctx.currentTime;
    if (c.nextStartTime < now + 0.005) c.nextStartTime = now + PLAYBACK_MARGIN_S;
    src.start(c.nextStartTime);
    c.nextStartTime += buffer.duration;
    c.sources.add(src);
    src.onended = () => c.sources.delete(src);
  }

  function clearPlayback(c) {
    if (!c) return;
    for (const src of c.sources) {
      try {
        src.onended = null;
        src.stop();
        src.disconnect();
      } catch (e) {
        /* already stopped */
      }
    }
    c.sources.clear();
    c.nextStartTime = 0;
  }

  function agentAudioEnded() {
    const c = conn;
    const remaining = c.ctx ? Math.max(0, c.nextStartTime - c.ctx.currentTime) : 0;
    clearTimeout(c.speakingTimer);
    c.speakingTimer = setTimeout(() => {
      if (conn !== c) return;
      c.agentSpeaking = false;
      renderStatus();
    }, remaining * 1000);
  }

  // ---------------------------------------------------------------- server events

  function onEvent(ev) {
    log("←", ev);
    const c = conn;
    // Session events carry a gapless seq; remember the last one so a reconnect replays what was missed.
    if (typeof ev.seq === "number") storeLastSeq(ev.seq);
    switch (ev.type) {
      case "session.ready": {
        c.ready = true;
        c.outputRate = ev.outputSampleRate || TARGET_RATE;
        c.agentName = ev.agent ? `Agent · ${ev.agent}` : "Agent";
        if (ev.sessionId !== storedSessionId()) storeLastSeq(ev.lastSeq || 0);
        storeSessionId(ev.sessionId);
        ui.sessionInfo.textContent =
          `session ${String(ev.sessionId).slice(0, 8)}${ev.resumed ? " (resumed)" : ""} · agent ${ev.agent} · node ${ev.node}`;
        ui.silence.placeholder = `server: ${ev.silenceMs}`;
        systemNote(ev.resumed ? `Resumed session ${String(ev.sessionId).slice(0, 8)}` : "Connected — start talking");
        const silence = parseInt(ui.silence.value, 10);
        if (silence && silence !== ev.silenceMs) sendJson({ type: "session.update", silenceMs: silence });
        if (agentMuted) sendJson({ type: "control", action: "mute" });
        c.pingTimer = setInterval(ping, PING_EVERY_MS);
        ping();
        break;
      }
      case "speech_started":
        c.userSpeaking = true;
        break;
      case "speech_stopped":
        c.userSpeaking = false;
        break;
      case "transcript.partial":
        if (ev.text && ev.text.trim()) showPartial(ev.text);
        break;
      case "transcript.final":
        dropPartial();
        if (ev.text && ev.text.trim()) addUserText(ev.text);
        break;
      case "user_message":
        c.thinking = true;
        break;
      case "agent_started":
        agentTurn(ev.turnId);
        break;
      case "agent_response.delta": {
        const turn = agentTurn(ev.turnId);
        setAgentText(turn, turn.text + (ev.delta || ""), true);
        break;
      }
      case "agent_response":
        setAgentText(agentTurn(ev.turnId), ev.text || "", false);
        break;
      case "audio.start":
        clearTimeout(c.speakingTimer);
        c.thinking = false;
        c.agentSpeaking = true;
        c.audioTurn = ev.turnId;
        break;
      case "audio.end":
        agentAudioEnded();
        break;
      case "audio.clear":
        clearPlayback(c);
        clearTimeout(c.speakingTimer);
        c.agentSpeaking = false;
        break;
      case "agent_completed": {
        c.thinking = false;
        const turn = c.turns.get(ev.turnId);
        if (turn) {
          turn.el.classList.remove("streaming", "thinking");
          if (!turn.text) turn.bubble.textContent = ev.heardText || "(no answer)";
          if (ev.error) {
            noteTurn(turn, `${ev.error.code}: ${ev.error.message}`, true);
          } else if (ev.interrupted) {
            noteTurn(turn, ev.heardText ? `interrupted — you heard: “${ev.heardText}”` : "interrupted");
          }
        }
        break;
      }
      case "error":
        showError(ev.code || "error", ev.message || "");
        if (!c.ready && ev.code === "session_not_found") {
          // The stored session is gone (expired or another server): stop offering it.
          try {
            sessionStorage.removeItem(SESSION_KEY);
          } catch (e) {
            /* ignore */
          }
          ui.resume.checked = false;
        }
        break;
      case "pong": {
        const sentAt = c.pings.get(ev.id);
        if (sentAt != null) {
          c.pings.delete(ev.id);
          c.rttMs = Math.round(performance.now() - sentAt);
        }
        break;
      }
      case "session.updated":
        if (ev.silenceMs) ui.silence.placeholder = `server: ${ev.silenceMs}`;
        break;
      default:
        break;
    }
    renderButtons();
    renderStatus();
    renderStats();
  }

  function ping() {
    const c = conn;
    if (!c) return;
    const id = ++c.pingId;
    c.pings.set(id, performance.now());
    if (c.pings.size > 10) c.pings.delete(c.pings.keys().next().value);
    sendJson({ type: "ping", id });
  }

  // ---------------------------------------------------------------- connect / disconnect

  async function start() {
    if (conn) return;
    ui.errors.textContent = "";
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      showError("client", "This browser gives no microphone access here. Use https:// or http://localhost.");
      return;
    }
    const AudioCtx = window.AudioContext || window.webkitAudioContext;
    if (!AudioCtx || typeof AudioWorkletNode === "undefined") {
      showError("client", "This browser lacks Web Audio AudioWorklet support.");
      return;
    }

    const c = {
      ws: null, ctx: null, stream: null, source: null, node: null, sink: null, playGain: null,
      ready: false, phase: "Asking for the microphone…", outputRate: TARGET_RATE,
      nextStartTime: 0, sources: new Set(), turns: new Map(), partial: null,
      userSpeaking: false, agentSpeaking: false, thinking: false, speakingTimer: 0,
      sentBytes: 0, receivedBytes: 0, pingId: 0, pings: new Map(), pingTimer: 0, rttMs: null,
      agentName: "Agent", closing: false,
    };
    conn = c;
    renderButtons();
    renderStatus();

    try {
      // Created inside the click so that playback is allowed to start.
      c.ctx = new AudioCtx({ latencyHint: "interactive" });
      if (c.ctx.state === "suspended") c.ctx.resume().catch(() => {});
      c.playGain = c.ctx.createGain();
      c.playGain.gain.value = agentMuted ? 0 : 1;
      c.playGain.connect(c.ctx.destination);

      const [stream] = await Promise.all([
        navigator.mediaDevices.getUserMedia({
          audio: { echoCancellation: true, noiseSuppression: true, channelCount: 1 },
        }),
        c.ctx.audioWorklet.addModule("capture-worklet.js"),
      ]);
      c.stream = stream;
      if (conn !== c) {
        stream.getTracks().forEach((t) => t.stop());
        return;
      }

      c.source = c.ctx.createMediaStreamSource(stream);
      c.node = new AudioWorkletNode(c.ctx, "voicemesh-capture", {
        numberOfInputs: 1,
        numberOfOutputs: 1,
        outputChannelCount: [1],
        channelCount: 1,
        channelCountMode: "explicit",
        channelInterpretation: "speakers",
        processorOptions: { targetRate: TARGET_RATE, frameSamples: FRAME_SAMPLES },
      });
      c.node.port.onmessage = (e) => onCaptured(c, e.data);
      // A silent sink keeps the worklet pulled by the graph without sending the mic to the speakers.
      c.sink = c.ctx.createGain();
      c.sink.gain.value = 0;
      c.source.connect(c.node);
      c.node.connect(c.sink);
      c.sink.connect(c.ctx.destination);
    } catch (e) {
      if (conn !== c) return;
      const name = e && e.name;
      const why = name === "NotAllowedError" ? "microphone permission was denied"
        : name === "NotFoundError" ? "no microphone was found"
        : (e && e.message) || String(e);
      showError("microphone", why);
      teardown("Not connected");
      return;
    }

    openSocket(c);
  }

  function openSocket(c) {
    const params = new URLSearchParams();
    params.set("sampleRate", String(TARGET_RATE));
    const agent = ui.agent.value.trim();
    const resumeId = ui.resume.checked ? storedSessionId() : null;
    if (resumeId) {
      params.set("sessionId", resumeId);
      params.set("lastSeq", String(storedLastSeq()));
    } else if (agent) params.set("agent", agent);
    const token = ui.token.value.trim();
    if (!token) {
      showError("sign-in", "an access token is needed: open the link the server printed, or run "
        + "`java -jar launcher/target/voicemesh.jar token --user NAME` and paste it under Options");
      teardown("Not connected");
      return;
    }
    try {
      sessionStorage.setItem(TOKEN_KEY, token);
    } catch (e) {
      /* ignore */
    }
    const where = `${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}/v1/voice?${params}`;
    params.set("token", token);
    const url = `${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}/v1/voice?${params}`;

    c.phase = "Connecting…";
    renderStatus();
    log("→", `open ${where}&token=…`);
    let ws;
    try {
      ws = new WebSocket(url);
    } catch (e) {
      showError("connection", (e && e.message) || String(e));
      teardown("Not connected");
      return;
    }
    ws.binaryType = "arraybuffer";
    c.ws = ws;

    ws.onopen = () => {
      if (conn !== c) return;
      c.phase = "Connected, opening the session…";
      renderStatus();
    };
    ws.onmessage = (e) => {
      if (conn !== c) return;
      if (typeof e.data === "string") {
        let ev;
        try {
          ev = JSON.parse(e.data);
        } catch (err) {
          log("←", `unparseable: ${e.data}`);
          return;
        }
        onEvent(ev);
      } else {
        playPcm(e.data);
        renderStats();
      }
    };
    ws.onerror = () => {
      if (conn !== c) return;
      log("←", "websocket error");
    };
    ws.onclose = (e) => {
      log("←", `closed ${e.code}${e.reason ? " " + e.reason : ""}`);
      if (conn !== c || c.closing) return;
      if (!c.ready) showError("connection", `could not open the voice session (close ${e.code}${e.reason ? ": " + e.reason : ""}); `
        + "is the access token valid and the session yours?");
      teardown(`Disconnected (code ${e.code}${e.reason ? ": " + e.reason : ""})`);
    };
  }

  function onCaptured(c, msg) {
    if (conn !== c || !msg || msg.type !== "frame") return;
    const level = Math.min(1, Math.sqrt(msg.rms) * 1.6);
    ui.meter.style.width = `${Math.round(level * 100)}%`;
    if (c.ready && c.ws && c.ws.readyState === WebSocket.OPEN) {
      // Don't pile up audio behind a slow link: skip frames while > 0.5 s is still queued.
      if (c.ws.bufferedAmount > TARGET_RATE) return;
      c.ws.send(msg.buffer);
      c.sentBytes += msg.buffer.byteLength;
      if ((c.sentBytes / 640) % 25 === 0) renderStats();
    }
  }

  function stop() {
    const c = conn;
    if (!c) return;
    c.closing = true;
    if (c.ws && (c.ws.readyState === WebSocket.OPEN || c.ws.readyState === WebSocket.CONNECTING)) {
      log("→", "close 1000");
      c.ws.close(1000, "client stop");
    }
    teardown("Stopped");
  }

  function teardown(message) {
    const c = conn;
    if (!c) return;
    c.closing = true;
    clearInterval(c.pingTimer);
    clearTimeout(c.speakingTimer);
    dropPartial();
    for (const turn of c.turns.values()) turn.el.classList.remove("streaming", "thinking");
    conn = null;
    if (c.ws && c.ws.readyState !== WebSocket.CLOSED && c.ws.readyState !== WebSocket.CLOSING) {
      try {
        c.ws.close(1000, "client stop");
      } catch (e) {
        /* ignore */
      }
    }
    clearPlayback(c);
    if (c.stream) c.stream.getTracks().forEach((t) => t.stop());
    try {
      if (c.node) {
        c.node.port.onmessage = null;
        c.node.disconnect();
      }
      if (c.source) c.source.disconnect();
    } catch (e) {
      /* ignore */
    }
    if (c.ctx && c.ctx.state !== "closed") c.ctx.close().catch(() => {});
    ui.meter.style.width = "0";
    setStatus(message || "Not connected", message && message.startsWith("Disconnected") ? "error" : "idle");
    renderButtons();
  }

  // ---------------------------------------------------------------- wiring

  initToken();
  ui.start.addEventListener("click", start);
  ui.stop.addEventListener("click", stop);
  ui.commit.addEventListener("click", () => sendJson({ type: "input.commit" }));
  ui.cancel.addEventListener("click", () => {
    if (sendJson({ type: "response.cancel" }) && conn) {
      clearPlayback(conn);
      conn.agentSpeaking = false;
      renderStatus();
    }
  });
  ui.mute.addEventListener("click", () => {
    agentMuted = !agentMuted;
    if (conn && conn.playGain) conn.playGain.gain.value = agentMuted ? 0 : 1;
    sendJson({ type: "control", action: agentMuted ? "mute" : "unmute" });
    renderButtons();
    renderStatus();
  });
  ui.silence.addEventListener("change", () => {
    const v = parseInt(ui.silence.value, 10);
    if (!conn || !conn.ready || !v) return;
    if (v < 200 || v > 5000) {
      showError("client", "silence must be 200 to 5000 ms");
      return;
    }
    sendJson({ type: "session.update", silenceMs: v });
  });
  ui.logClear.addEventListener("click", () => {
    logLines.length = 0;
    ui.log.textContent = "";
    renderLog();
  });
  ui.log.closest("details").addEventListener("toggle", renderLog);
  window.addEventListener("pagehide", () => {
    if (conn) stop();
  });

  renderButtons();
})();
