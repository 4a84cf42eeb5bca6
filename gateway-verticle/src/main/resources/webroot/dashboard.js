// The operations dashboard: follows dashboard.nodes, dashboard.sessions and one session's events
// over the event-bus bridge (/eventbus) with the official client (lib/vertx-eventbus.js, from npm
// @vertx/eventbus-bridge-client.js 1.0.0), and charts turn latencies with uPlot (webjar).
// The admin token comes from the address (#token=…) and travels as the `token` header of each
// register and send, not in the URL.
(() => {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const TOKEN_KEY = "voicemesh.dashboardToken";
  const NODE_GONE_MS = 5000;
  const TURNS_CHARTED = 50;
  const STAGES = [
    ["sttFinalMs", "STT final", "#16a34a"],
    ["llmFirstTokenMs", "LLM first token", "#d97706"],
    ["ttsFirstAudioMs", "TTS first audio", "#0ea5e9"],
    ["voiceToVoiceMs", "voice-to-voice", "#4f46e5"],
  ];

  const token = (() => {
    const fromHash = new URLSearchParams(location.hash.slice(1)).get("token");
    if (fromHash) {
      sessionStorage.setItem(TOKEN_KEY, fromHash);
      history.replaceState(null, "", location.pathname + location.search);
      return fromHash;
    }
    return sessionStorage.getItem(TOKEN_KEY);
  })();

  const nodes = new Map();     // node name → {report, seenAt}
  const sessions = new Map();  // sessionId → {user, agent, turns, state, lastV2V}
  const turns = [];            // recent turn.completed records, oldest first
  let followed = null;         // {id, handler}
  let bus = null;
  let chart = null;

  function status(text, dot) {
    $("status").textContent = text;
    $("status-dot").className = "dot " + dot;
  }

  function showError(text) {
    const p = document.createElement("div");
    p.className = "error-item";
    p.textContent = text;
    $("errors").appendChild(p);
    while ($("errors").children.length > 5) $("errors").firstChild.remove();
  }

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => (k === "class" ? (e.className = v) : e.setAttribute(k, v)));
    children.forEach((c) => e.append(c instanceof Node ? c : document.createTextNode(String(c))));
    return e;
  }

  function bar(fraction) {
    const f = Math.max(0, Math.min(1, fraction));
    const b = el("span", { class: "bar" + (f >= 1 ? " full" : f >= 0.8 ? " high" : "") });
    const fill = el("span");
    fill.style.width = (f * 100).toFixed(1) + "%";
    b.append(fill);
    return b;
  }

  const mib = (bytes) => (bytes / 1048576).toFixed(0) + " MiB";

  // ---- nodes ----
  function renderNodes() {
    const body = $("nodes").tBodies[0];
    body.replaceChildren();
    const now = Date.now();
    [...nodes.keys()].sort().forEach((name) => {
      const { report, seenAt } = nodes.get(name);
      const gone = now - seenAt > NODE_GONE_MS;
      const roles = el("div");
      Object.entries(report.roles || {}).sort().forEach(([role, s]) => {
        const capacity = s.capacity || 0;
        roles.append(el("div", { class: "role", "data-role": role }, el("span", {}, role),
          bar(capacity > 0 ? (s.active || 0) / capacity : 0),
          el("span", { class: "num muted" }, (s.active || 0) + (capacity > 0 ? " / " + capacity : " active"))));
      });
      const heap = el("div", { class: "role heap" }, bar(report.heapMaxBytes > 0 ? report.heapUsedBytes / report.heapMaxBytes : 0),
        el("span", { class: "num muted" }, mib(report.heapUsedBytes)));
      const state = gone ? "GONE" : report.status;
      body.append(el("tr", { class: gone ? "gone" : "", "data-node": name },
        el("td", {}, name), el("td", {}, el("span", { class: "badge " + state }, state)), el("td", {}, roles),
        el("td", {}, heap), el("td", { class: "num" }, report.eventLoopDelayMs.toFixed(1) + " ms"),
        el("td", { class: "num" }, (report.members || []).length)));
    });
    $("nodes-count").textContent = "(" + nodes.size + ")";
  }

  // ---- sessions ----
  function renderSessions() {
    const body = $("sessions").tBodies[0];
    body.replaceChildren();
    [...sessions.entries()].reverse().forEach(([id, s]) => {
      const row = el("tr", { class: (s.state === "ended" ? "ended" : "") + (followed && followed.id === id ? " selected" : ""),
        "data-session": id },
        el("td", {}, el("code", {}, id.slice(0, 8))), el("td", {}, s.user || ""), el("td", {}, s.agent || ""),
        el("td", { class: "num" }, s.turns), el("td", {}, s.state),
        el("td", { class: "num" }, s.lastV2V == null ? "" : s.lastV2V + " ms"));
      row.addEventListener("click", () => follow(id));
      body.append(row);
    });
    $("sessions-count").textContent = "(" + [...sessions.values()].filter((s) => s.state !== "ended").length + " live)";
  }

  function onActivity(a) {
    const s = sessions.get(a.sessionId) || { user: a.user, agent: a.agent, turns: 0, state: "active", lastV2V: null };
    s.user = a.user || s.user;
    s.agent = a.agent || s.agent;
    if (a.type === "session.ended") s.state = "ended";
    if (a.type === "turn.completed") {
      s.turns += 1;
      s.state = "active";
      s.lastV2V = a.timings ? a.timings.voiceToVoiceMs : null;
      turns.push(a);
      if (turns.length > TURNS_CHARTED) turns.shift();
      renderChart();
    }
    sessions.set(a.sessionId, s);
    renderSessions();
  }

  // The sessions already live when the page opens (dashboard.sessions tells only what changes).
  function loadLiveSessions() {
    fetch("api/v1/sessions?active=true&all=true&limit=100", { headers: { Authorization: "Bearer " + token } })
      .then((r) => r.ok ? r.json() : r.json().then((e) => Promise.reject(new Error(e.message || r.status))))
      .then((page) => {
        page.sessions.forEach((info) => {
          if (!sessions.has(info.sessionId)) {
            sessions.set(info.sessionId, { user: info.user, agent: info.agent, turns: info.turns, state: info.state, lastV2V: null });
          }
        });
        renderSessions();
      })
      .catch((e) => showError("live sessions: " + e.message));
  }

  // ---- latency chart (uPlot) ----
  function renderChart() {
    const xs = turns.map((t, i) => i + 1);
    const data = [xs, ...STAGES.map(([key]) => turns.map((t) => (t.timings && t.timings[key] != null ? t.timings[key] : null)))];
    if (!chart) {
      chart = new uPlot({
        width: Math.max(320, $("latency").clientWidth || 800),
        height: 240,
        scales: { x: { time: false } },
        axes: [{ label: "turn", incrs: [1, 2, 5, 10, 20, 50] }, { label: "ms" }],
        series: [{ label: "turn" }, ...STAGES.map(([, label, stroke]) => ({ label, stroke, width: 2, points: { show: true } }))],
      }, data, $("latency"));
    } else {
      chart.setData(data);
    }
  }

  // ---- one session ----
  function follow(id) {
    if (followed) {
      if (followed.id === id) return;
      bus.unregisterHandler(followed.address, { token }, followed.handler);
    }
    const address = "session." + id + ".events";
    const handler = (err, msg) => (err ? showError("session events: " + JSON.stringify(err)) : onSessionEvent(msg));
    followed = { id, address, handler, partial: null, agent: null };
    $("detail").hidden = false;
    $("detail-id").textContent = id;
    $("detail-transcript").replaceChildren();
    $("detail-events").textContent = "";
    $("detail-count").textContent = "";
    bus.registerHandler(address, { token }, handler);
    refreshStatus(id);
    renderSessions();
  }

  /** The followed session's state, turns and connections, asked with session.status over the bridge. */
  function refreshStatus(id) {
    bus.send("session.status", { sessionId: id }, { token }, (err, reply) => {
      if (err) return showError("session.status: " + (err.message || JSON.stringify(err)));
      if (!followed || followed.id !== id) return;
      const st = reply.body;
      $("detail-state").textContent = st.state + " · " + st.turns + " turns · " + (st.participants || []).length + " connected";
    });
  }

  function say(who, text, cls) {
    const m = el("div", { class: "msg " + who + (cls ? " " + cls : "") }, el("span", { class: "who" }, who),
      el("span", { class: "bubble" }, text));
    $("detail-transcript").append(m);
    $("detail-transcript").scrollTop = $("detail-transcript").scrollHeight;
    return m;
  }

  function onSessionEvent(msg) {
    const e = JSON.parse(msg.body);
    const log = $("detail-events");
    const f = followed;
    f.events = (f.events || 0) + 1;
    log.textContent += msg.headers.seq + " " + msg.headers.type + " " + msg.body + "\n";
    $("detail-count").textContent = "(" + f.events + ")";
    switch (e.type) {
      case "transcript.partial":
        if (!f.partial) f.partial = say("user", "", "partial");
        f.partial.querySelector(".bubble").textContent = e.text;
        break;
      case "transcript.final":
        if (f.partial) f.partial.remove();
        f.partial = null;
        if (e.text) say("user", e.text);
        break;
      case "agent_response.delta":
        if (!f.agent) f.agent = say("agent", "", "streaming");
        f.agent.querySelector(".bubble").textContent += e.delta;
        break;
      case "agent_response":
        if (!f.agent) f.agent = say("agent", "");
        f.agent.querySelector(".bubble").textContent = e.text;
        f.agent.classList.remove("streaming");
        break;
      case "agent_completed":
        if (f.agent) f.agent.classList.remove("streaming");
        f.agent = null;
        refreshStatus(f.id);
        break;
      case "session.ended":
        say("agent", "session ended (" + e.reason + ")", "partial");
        break;
      default:
    }
  }

  // ---- connection ----
  function connect() {
    if (!token) {
      status("No token", "error");
      showError("an admin token is needed: voicemesh token --user NAME --admin, then open /dashboard#token=…");
      return;
    }
    status("Connecting…", "connecting");
    bus = new EventBus(new URL("eventbus", location.href).toString());
    bus.enableReconnect(true);
    bus.onerror = (err) => showError("refused by the bridge: " + (err && err.body ? err.body : JSON.stringify(err))
      + " (is the token an admin token, and still valid?)");
    bus.onclose = () => status("Disconnected; reconnecting…", "connecting");
    bus.onopen = () => {
      status("Connected", "listening");
      bus.registerHandler("dashboard.nodes", { token }, (err, msg) => {
        if (err) return showError("dashboard.nodes: " + JSON.stringify(err));
        nodes.set(msg.body.node, { report: msg.body, seenAt: Date.now() });
        renderNodes();
      });
      bus.registerHandler("dashboard.sessions", { token }, (err, msg) => {
        if (err) return showError("dashboard.sessions: " + JSON.stringify(err));
        onActivity(msg.body);
      });
      loadLiveSessions();
      if (followed) {
        const id = followed.id;
        followed = null;
        follow(id);
      }
    };
  }

  setInterval(renderNodes, 1000);
  renderChart();
  connect();
})();
