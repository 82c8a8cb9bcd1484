// generals-rl web UI: pages by URL hash (#/play, #/live, #/replays, #/replay/<id>, #/leaderboard,
// #/training, #/tournaments), the gateway's REST API and WebSockets (docs/gateway.md).
"use strict";

const $ = (id) => document.getElementById(id);
const app = {
  token: localStorage.getItem("grl.token"),
  name: localStorage.getItem("grl.name"),
  sockets: [],
  timers: [],
  keys: null, // the key handler of the page shown (play), or null
};

// -- helpers -------------------------------------------------------------------------------------

function notice(text, info) {
  const box = $("notice");
  box.textContent = text;
  box.className = info ? "info" : "";
  box.hidden = false;
  clearTimeout(notice.timer);
  notice.timer = setTimeout(() => { box.hidden = true; }, 5000);
}

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

async function api(path, options = {}) {
  const headers = Object.assign({}, options.headers || {});
  if (app.token) headers.Authorization = "Bearer " + app.token;
  let body = options.body;
  if (options.json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(options.json);
  }
  const response = await fetch(path, { method: options.method || "GET", headers, body });
  if (response.status === 204) return null;
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    let detail = data && data.detail;
    if (Array.isArray(detail)) detail = detail.map((d) => `${d.loc.join(".")}: ${d.msg}`).join("; ");
    throw new Error(detail || `${response.status} ${response.statusText}`);
  }
  return data;
}

function openSocket(path) {
  const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + path);
  app.sockets.push(ws);
  return ws;
}

function table(element, headings, rows) {
  const head = "<tr>" + headings.map((h) => `<th>${escapeHtml(h)}</th>`).join("") + "</tr>";
  element.innerHTML = head + rows.map((r) => "<tr>" + r.map((c) => `<td>${c}</td>`).join("") + "</tr>").join("");
}

function fmt(x, digits = 0) { return x === null || x === undefined ? "–" : Number(x).toFixed(digits); }

function playerLink(key) {
  return `<a href="#/leaderboard/${encodeURIComponent(key)}">${escapeHtml(key)}</a>`;
}

// -- routing -------------------------------------------------------------------------------------

const pages = {
  play: showPlay, live: showLive, replays: showReplays, replay: showReplay,
  leaderboard: showLeaderboard, training: showTraining, tournaments: showTournaments,
};

function route() {
  const [page, arg] = location.hash.replace(/^#\/?/, "").split("/");
  const name = pages[page] ? page : "play";
  app.sockets.forEach((ws) => ws.close());
  app.sockets = [];
  app.timers.forEach((t) => clearInterval(t));
  app.timers = [];
  app.keys = null;
  document.querySelectorAll(".page").forEach((p) => { p.hidden = p.id !== "page-" + name; });
  document.querySelectorAll("nav a").forEach((a) => {
    a.classList.toggle("active", a.dataset.page === name || (name === "replay" && a.dataset.page === "replays"));
  });
  $("who").textContent = app.name ? `playing as ${app.name}` : "";
  pages[name](arg ? decodeURIComponent(arg) : null).catch((error) => notice(error.message));
}

window.addEventListener("hashchange", route);
document.addEventListener("keydown", (event) => {
  if (app.keys && !["INPUT", "SELECT", "TEXTAREA"].includes(event.target.tagName)) app.keys(event);
});

// -- play ----------------------------------------------------------------------------------------

async function showPlay(gameId) {
  $("game").hidden = true;
  $("lobby").hidden = true;
  $("login").hidden = true;
  if (app.token) {
    try { await api("/api/session"); } catch (error) { app.token = null; }
  }
  if (!app.token) { $("login").hidden = false; return; }
  if (gameId) { playGame(gameId); return; }
  $("lobby").hidden = false;
  $("queue-status").textContent = "";
  const options = ["bot:random", "bot:expander", "bot:gatherer"];
  try {
    const aliases = await api("/api/aliases");
    aliases.forEach((a) => options.push(`model:${a.name}`));
    const page = await api("/api/models?state=accepted&page_size=20");
    page.versions.forEach((v) => options.push(`model:${v.version}`));
  } catch (error) { /* no Model Service: bots only */ }
  $("opponent").innerHTML = options.map((o) => `<option>${escapeHtml(o)}</option>`).join("");
}

$("login").addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    const session = await api("/api/session", { method: "POST", json: { name: $("login-name").value } });
    app.token = session.token;
    app.name = session.name;
    localStorage.setItem("grl.token", session.token);
    localStorage.setItem("grl.name", session.name);
    route();
  } catch (error) { notice(error.message); }
});

$("new-game").addEventListener("submit", async (event) => {
  event.preventDefault();
  const side = $("map-side").value;
  const body = {
    opponent: $("opponent").value,
    speed: Number($("speed").value),
    max_ticks: Number($("max-ticks").value || 0),
  };
  if (side) body.side = Number(side);
  try {
    const game = await api("/api/games", { method: "POST", json: body });
    location.hash = `#/play/${game.game_id}`;
  } catch (error) { notice(error.message); }
});

$("queue-button").addEventListener("click", () => {
  const ws = openSocket("/ws/queue");
  ws.onopen = () => {
    ws.send(JSON.stringify({ type: "auth", token: app.token }));
    ws.send(JSON.stringify({ type: "find", mode: "1v1" }));
  };
  ws.onmessage = (event) => {
    const msg = JSON.parse(event.data);
    if (msg.type === "error") notice(msg.message);
    else if (msg.type === "ticket") $("queue-status").textContent = `${msg.status}, waited ${msg.waited_s} s`;
    else if (msg.type === "matched") location.hash = `#/play/${msg.game_id}`;
  };
});

function playGame(gameId) {
  const game = { id: gameId, seat: null, enemy: null, view: null, selected: null, half: false, over: false };
  const board = new Board($("play-board"), (row, col) => clickTile(row, col));
  $("game").hidden = false;
  $("game-replay").hidden = true;
  $("game-state").textContent = "connecting…";
  const ws = openSocket(`/ws/play/${encodeURIComponent(gameId)}`);
  const send = (message) => { if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(message)); };
  ws.onopen = () => send({ type: "auth", token: app.token });
  ws.onclose = (event) => {
    if (event.code === 4401) { app.token = null; localStorage.removeItem("grl.token"); }
    if (!game.over) $("game-state").textContent = "disconnected";
  };
  ws.onmessage = (event) => {
    const msg = JSON.parse(event.data);
    if (msg.type === "joined") {
      game.seat = msg.seat;
      game.enemy = msg.game.seats.length === 2 ? 1 - msg.seat : null;
      $("game-state").textContent = "waiting for the first tick";
    } else if (msg.type === "view") {
      game.view = msg;
      if (game.selected === null) selectGeneral();
      $("game-state").textContent = msg.alive ? "playing" : "eliminated";
      draw();
    } else if (msg.type === "over") {
      game.over = true;
      const result = msg.game.result;
      const outcome = game.view && game.view.outcome;
      $("game-state").textContent = `game over: ${outcome || msg.game.status}` + (result ? ` (${result.reason})` : "");
      $("game-replay").href = `#/replay/${gameId}`;
      $("game-replay").hidden = false;
    } else if (msg.type === "error") {
      notice(msg.message);
    }
  };

  function selectGeneral() {
    const i = game.view.tiles.findIndex((code) => (code & 7) === TILE.MINE && (code & GENERAL_BIT));
    if (i >= 0) game.selected = { row: Math.floor(i / game.view.width), col: i % game.view.width };
  }

  function draw() {
    const view = game.view;
    if (!view) return;
    board.resize(view.height, view.width);
    const tiles = viewTiles(view, game.enemy);
    if (game.selected) {
      const i = game.selected.row * view.width + game.selected.col;
      tiles[i].cls.push("selected");
      if (game.half) tiles[i].cls.push("half");
    }
    board.draw(tiles, queueMarks(view.queue, view.width));
    $("game-tick").textContent = `tick ${view.tick}`;
    $("half-toggle").textContent = `50%: ${game.half ? "on" : "off"}`;
    $("half-toggle").classList.toggle("on", game.half);
    table($("play-scores"), ["player", "land", "army"], view.scores.map((s) => [
      `<span class="swatch" style="background:${COLORS[s.seat % 8]}"></span>${escapeHtml(s.name)}`, s.land, s.army,
    ]));
    $("play-queue").innerHTML = view.queue.map((m) =>
      `<li>(${m.row}, ${m.col}) ${ARROWS[m.direction]}${m.half ? " 50%" : ""}</li>`).join("");
  }

  function move(direction) {
    if (!game.view || game.over) return;
    if (!game.selected) { notice("click one of your tiles first"); return; }
    const [dr, dc] = OFFSETS[direction];
    const { row, col } = game.selected;
    send({ type: "move", row, col, direction, half: game.half });
    const r = row + dr, c = col + dc;
    if (r >= 0 && r < game.view.height && c >= 0 && c < game.view.width) game.selected = { row: r, col: c };
    game.half = false;
    draw();
  }

  function clickTile(row, col) {
    if (!game.view) return;
    const s = game.selected;
    if (s && s.row === row && s.col === col) {
      game.half = !game.half;
    } else if (s && Math.abs(s.row - row) + Math.abs(s.col - col) === 1) {
      move(DIRECTIONS.find((d) => OFFSETS[d][0] === row - s.row && OFFSETS[d][1] === col - s.col));
      return;
    } else {
      game.selected = { row, col };
      game.half = false;
    }
    draw();
  }

  const keyMoves = { ArrowUp: "up", w: "up", ArrowDown: "down", s: "down", ArrowLeft: "left", a: "left",
    ArrowRight: "right", d: "right" };
  app.keys = (event) => {
    const key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
    if (keyMoves[key]) { event.preventDefault(); move(keyMoves[key]); }
    else if (key === "q") send({ type: "clear" });
    else if (key === "z") { game.half = !game.half; draw(); }
  };
  $("half-toggle").onclick = () => { game.half = !game.half; draw(); };
  $("clear-queue").onclick = () => send({ type: "clear" });
  $("surrender").onclick = () => send({ type: "surrender" });
  $("play-board").focus();
}

// -- live games ----------------------------------------------------------------------------------

async function showLive(gameId) {
  $("watch").hidden = true;
  const page = await api("/api/games?status=running&page_size=50");
  table($("live-games"), ["game", "players", "tick", ""], page.games.map((g) => [
    escapeHtml(g.game_id), g.seats.map((s) => escapeHtml(s.name || s.player || "open")).join(" vs "), g.tick,
    `<a href="#/live/${g.game_id}">watch</a>`,
  ]));
  if (!page.games.length) $("live-games").innerHTML = "<tr><td>No game is being played right now.</td></tr>";
  if (gameId) watchGame(gameId, "");
}

/** Spectate `gameId` through the Game Service: the whole board (fog "") or seat `fog`'s view. */
function watchGame(gameId, fog) {
  const board = new Board($("watch-board"));
  let info = null;
  $("watch").hidden = false;
  app.sockets.forEach((s) => s.close());
  app.sockets = [];
  const ws = openSocket(`/ws/watch/${encodeURIComponent(gameId)}` + (fog === "" ? "" : `?fog=${fog}`));
  const scores = (msg) => table($("watch-scores"), ["player", "land", "army"], msg.scores.map((s) => [
    `<span class="swatch" style="background:${COLORS[s.seat % 8]}"></span>${escapeHtml(s.name)}`, s.land, s.army,
  ]));
  ws.onmessage = (event) => {
    const msg = JSON.parse(event.data);
    if (msg.type === "game") {
      info = msg.game;
      $("watch-tick").textContent = `tick ${info.tick}`;
      $("watch-state").textContent = info.status === "pending" ? "waiting for the players" : "";
      $("watch-fog").innerHTML = `<option value="">everyone (no fog)</option>` + info.seats.map((s) =>
        `<option value="${s.index}">${escapeHtml(s.name || s.player || "seat " + s.index)}</option>`).join("");
      $("watch-fog").value = fog;
      $("watch-fog").onchange = () => watchGame(gameId, $("watch-fog").value);
    } else if (msg.type === "board") {
      board.resize(msg.height, msg.width);
      board.draw(replayTiles(msg, msg.width, null, null));
      $("watch-tick").textContent = `tick ${msg.tick}`;
      $("watch-state").textContent = "the whole board";
      scores(msg);
    } else if (msg.type === "view") {
      board.resize(msg.height, msg.width);
      const enemy = info && info.seats.length === 2 ? 1 - msg.seat : null;
      board.draw(viewTiles(msg, enemy));
      $("watch-tick").textContent = `tick ${msg.tick}`;
      $("watch-state").textContent = `seat ${msg.seat}'s view`;
      scores(msg);
    } else if (msg.type === "over") {
      $("watch-state").innerHTML = `over: ${escapeHtml(msg.game.status)} — <a href="#/replay/${gameId}">replay</a>`;
    } else if (msg.type === "error") {
      notice(msg.message);
    }
  };
}

// -- replays -------------------------------------------------------------------------------------

async function showReplays() {
  const list = await api("/api/replays");
  table($("replay-list"), ["replay", "players", "ticks", "winner", "ended"], list.replays.map((r) => [
    `<a href="#/replay/${r.id}">${escapeHtml(r.id)}</a>`,
    r.uploaded ? "(uploaded)" : r.players.map(escapeHtml).join(" vs "),
    fmt(r.ticks), r.winner ? escapeHtml(r.winner) : "–", r.ended_at ? r.ended_at.slice(0, 19) : "–",
  ]));
}

$("replay-file").addEventListener("change", async () => {
  const file = $("replay-file").files[0];
  if (!file) return;
  try {
    const out = await api("/api/replays", {
      method: "POST", body: file, headers: { "Content-Type": "application/octet-stream" },
    });
    location.hash = `#/replay/${out.id}`;
  } catch (error) { notice(error.message); }
  $("replay-file").value = "";
});

async function showReplay(replayId) {
  let data = null;
  for (let attempt = 0; data === null; attempt++) { // a game's replay is stored a moment after it ends
    try {
      data = await api(`/api/replays/${encodeURIComponent(replayId)}/frames`);
    } catch (error) {
      if (attempt >= 10 || !/no replay/.test(error.message)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
  const board = new Board($("replay-board"));
  board.resize(data.height, data.width);
  const copy = (b) => ({ owners: b.owners.slice(), armies: b.armies.slice(), terrain: b.terrain.slice() });
  const snapshots = [copy(data.initial)]; // every 50 ticks, for scrubbing backwards
  let current = copy(data.initial);
  for (let t = 0; t < data.ticks; t++) {
    apply(current, t);
    if ((t + 1) % 50 === 0) snapshots.push(copy(current));
  }
  let tick = 0;
  current = copy(data.initial);

  function apply(b, t) {
    const d = data.deltas[t];
    for (let k = 0; k < d.length; k += 4) {
      b.owners[d[k]] = d[k + 1];
      b.armies[d[k]] = d[k + 2];
      b.terrain[d[k]] = d[k + 3];
    }
  }
  function seek(target) {
    target = Math.max(0, Math.min(data.ticks, target));
    if (target < tick || target - tick > 50) {
      const s = Math.floor(target / 50);
      current = copy(snapshots[s]);
      tick = s * 50;
    }
    while (tick < target) apply(current, tick++);
    draw();
  }
  function draw() {
    const fog = $("replay-fog").value === "" ? null : Number($("replay-fog").value);
    board.draw(replayTiles(current, data.width, fog, data.teams));
    $("replay-timeline").value = String(tick);
    $("replay-tick").textContent = `tick ${tick} / ${data.ticks}`;
    const rows = data.names.map((name, p) => {
      let land = 0, army = 0;
      current.owners.forEach((o, i) => { if (o === p) { land++; army += current.armies[i]; } });
      return [`<span class="swatch" style="background:${COLORS[p % 8]}"></span>${escapeHtml(name)}`, land, army];
    });
    table($("replay-scores"), ["player", "land", "army"], rows);
  }

  $("replay-fog").innerHTML = `<option value="">everyone</option>` +
    data.names.map((n, p) => `<option value="${p}">${escapeHtml(n)}</option>`).join("");
  $("replay-timeline").max = String(data.ticks);
  $("replay-timeline").oninput = () => { stop(); seek(Number($("replay-timeline").value)); };
  $("replay-fog").onchange = draw;
  $("replay-download").href = `/api/replays/${encodeURIComponent(replayId)}.gioreplay`;
  let timer = null;
  function stop() {
    if (timer !== null) clearInterval(timer);
    timer = null;
    $("replay-play").textContent = "Play";
  }
  function play() {
    if (tick >= data.ticks) seek(0);
    timer = setInterval(() => { if (tick >= data.ticks) stop(); else seek(tick + 1); },
      500 / Number($("replay-speed").value));
    app.timers.push(timer);
    $("replay-play").textContent = "Pause";
  }
  $("replay-play").onclick = () => (timer === null ? play() : stop());
  $("replay-speed").onchange = () => { if (timer !== null) { stop(); play(); } };
  stop();
  draw();
}

// -- leaderboard ---------------------------------------------------------------------------------

function svgChart(element, points, yLabel) {
  // points: [{x, y, lo, hi}] sorted by x; draws a line, a 95% band and error bars.
  if (!points.length) { element.innerHTML = "<p>No data yet.</p>"; return; }
  const W = 640, H = 240, L = 50, R = 10, T = 10, B = 30;
  const xs = points.map((p) => p.x), lows = points.map((p) => p.lo), highs = points.map((p) => p.hi);
  const x0 = Math.min(...xs), x1 = Math.max(...xs) + (xs.length === 1 ? 1 : 0);
  const y0 = Math.min(...lows), y1 = Math.max(...highs) + 1;
  const sx = (x) => L + ((x - x0) / (x1 - x0 || 1)) * (W - L - R);
  const sy = (y) => H - B - ((y - y0) / (y1 - y0 || 1)) * (H - T - B);
  const line = points.map((p, i) => `${i ? "L" : "M"}${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`).join("");
  const band = points.map((p, i) => `${i ? "L" : "M"}${sx(p.x).toFixed(1)},${sy(p.hi).toFixed(1)}`).join("") +
    points.slice().reverse().map((p) => `L${sx(p.x).toFixed(1)},${sy(p.lo).toFixed(1)}`).join("") + "Z";
  const bars = points.map((p) => `<line class="err" x1="${sx(p.x)}" x2="${sx(p.x)}" y1="${sy(p.lo)}" y2="${sy(p.hi)}"/>` +
    `<circle class="dot" cx="${sx(p.x)}" cy="${sy(p.y)}" r="3"><title>${p.label}: ${p.y.toFixed(0)} ` +
    `[${p.lo.toFixed(0)}, ${p.hi.toFixed(0)}]</title></circle>`).join("");
  element.innerHTML = `<svg width="${W}" height="${H}" role="img" aria-label="${yLabel}">` +
    `<path class="band" d="${band}"/><path class="line" d="${line}"/>${bars}` +
    `<line class="axis" x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}"/>` +
    `<line class="axis" x1="${L}" y1="${T}" x2="${L}" y2="${H - B}"/>` +
    `<text x="4" y="${sy(y1) + 10}">${y1.toFixed(0)}</text><text x="4" y="${sy(y0)}">${y0.toFixed(0)}</text>` +
    `<text x="${L}" y="${H - 8}">${points[0].label}</text>` +
    `<text x="${W - R - 80}" y="${H - 8}">${points[points.length - 1].label}</text></svg>`;
}

async function showLeaderboard(playerKey) {
  const mode = $("board-mode").value;
  const board = await api(`/api/leaderboard?mode=${mode}&page_size=100`);
  const lo = Math.min(...board.entries.map((e) => e.lower)), hi = Math.max(...board.entries.map((e) => e.upper));
  const bar = (e) => `<span class="ci" title="95%: ${e.lower.toFixed(0)} .. ${e.upper.toFixed(0)}">` +
    `<span style="left:${(100 * (e.lower - lo)) / (hi - lo)}%;right:${100 - (100 * (e.upper - lo)) / (hi - lo)}%"></span></span>`;
  table($("leaderboard"), ["#", "player", "rating", "95% interval", "", "games", "W / L / D"], board.entries.map((e) => [
    e.rank, playerLink(e.player), fmt(e.rating), `${fmt(e.lower)} .. ${fmt(e.upper)}`, bar(e), e.games,
    `${e.wins} / ${e.losses} / ${e.draws}`,
  ]));
  const models = await api(`/api/leaderboard?mode=${mode}&kind=model&page_size=500`);
  const points = models.entries.map((e) => ({ x: Number(e.player.split(":")[1]), y: e.rating, lo: e.lower, hi: e.upper,
    label: e.player })).sort((a, b) => a.x - b.x);
  svgChart($("versions-chart"), points, "rating by model version");
  $("history-title").hidden = !playerKey;
  $("history-chart").innerHTML = "";
  if (playerKey) {
    const history = await api(`/api/players/${encodeURIComponent(playerKey)}/history?mode=${mode}&page_size=500`);
    $("history-title").textContent = `Rating history of ${playerKey}`;
    svgChart($("history-chart"), history.points.map((p, i) => ({ x: i + 1, y: p.rating, lo: p.rating - 1.96 * p.deviation,
      hi: p.rating + 1.96 * p.deviation, label: `game ${i + 1}` })), "rating history");
  }
}
$("board-mode").addEventListener("change", () => showLeaderboard(null).catch((e) => notice(e.message)));

// -- training ------------------------------------------------------------------------------------

async function showTraining() {
  const t = await api("/api/training");
  const status = t.status;
  if (status) {
    const age = t.status_age_s === null ? "" : ` (updated ${t.status_age_s.toFixed(0)} s ago)`;
    const cell = (v) => escapeHtml(typeof v === "number" ? +v.toFixed(3) : v);
    const flat = { ...status };
    for (const [k, v] of Object.entries(status.losses || {})) flat[`loss ${k}`] = v; // grl train's losses
    const rows = Object.entries(flat).filter(([, v]) => typeof v !== "object" || v === null)
      .map(([k, v]) => `<tr><td>${escapeHtml(k)}</td><td>${cell(v)}</td></tr>`);
    const live = Object.entries(status.win_rates || {}).filter(([, w]) => w && typeof w === "object")
      .map(([bot, w]) => `<tr><td>${escapeHtml(bot)}</td><td>${cell(w.version)}</td><td>` +
        `${(100 * Number(w.rate)).toFixed(0)}%</td><td>${cell(w.games)}</td></tr>`);
    $("training-status").innerHTML = `<h3>Live status${age}</h3><table class="list">${rows.join("")}</table>` +
      (live.length ? `<h3>Latest evaluation</h3><table class="list"><tr><th>opponent</th><th>version</th>` +
        `<th>win rate</th><th>games</th></tr>${live.join("")}</table>` : "");
  } else {
    $("training-status").textContent = "No training run reports here (grl train writes its status to the cache).";
  }
  table($("training-winrates"), ["version", "opponent", "games", "score"], t.win_rates.map((w) => [
    `model:${w.version}`, escapeHtml(w.opponent), w.games, `${(100 * w.score).toFixed(0)}%`,
  ]));
  const rating = new Map(t.ratings.map((r) => [r.player, r]));
  table($("training-versions"), ["version", "state", "aliases", "step", "rating (95%)", "reason", "created"],
    t.versions.map((v) => {
      const r = rating.get(`model:${v.version}`);
      return [v.version, escapeHtml(v.state), escapeHtml(v.aliases.join(", ")), v.training_step,
        r ? `${fmt(r.rating)} (${fmt(r.lower)} .. ${fmt(r.upper)})` : "–", escapeHtml(v.status_reason),
        v.created_at ? v.created_at.slice(0, 19) : "–"];
    }));
  table($("training-events"), ["when", "what", "version", "by", "why"], t.events.map((e) => [
    e.at ? e.at.slice(0, 19) : "–", escapeHtml(e.kind + (e.alias ? ` ${e.alias}` : "") + (e.state ? ` ${e.state}` : "")),
    e.version || "–", escapeHtml(e.actor), escapeHtml(e.reason),
  ]));
}

async function adminCall(action) {
  const alias = $("admin-alias").value, version = Number($("admin-version").value || 0);
  const body = action === "promote" ? { version, reason: $("admin-reason").value }
    : { to_version: version, reason: $("admin-reason").value };
  try {
    const out = await api(`/api/aliases/${encodeURIComponent(alias)}/${action}`, {
      method: "POST", json: body, headers: { "X-Admin-Token": $("admin-token").value },
    });
    notice(`${out.name} now points at version ${out.version}`, true);
    await showTraining();
  } catch (error) { notice(error.message); }
}
$("promote").addEventListener("click", () => adminCall("promote"));
$("rollback").addEventListener("click", () => adminCall("rollback"));

// -- tournaments ---------------------------------------------------------------------------------

async function showTournaments() {
  const page = await api("/api/tournaments?page_size=20");
  if (!page.tournaments.length) { $("tournaments").innerHTML = "<p>No tournaments yet.</p>"; return; }
  $("tournaments").innerHTML = page.tournaments.map((t) => {
    const rows = t.standings.map((s) => `<tr><td>${s.rank}</td><td>${playerLink(s.player)}</td><td>${s.points}</td>` +
      `<td>${s.wins} / ${s.losses} / ${s.draws}</td></tr>`).join("");
    return `<div class="panel"><h3>${escapeHtml(t.name)} — ${escapeHtml(t.format)}, ${escapeHtml(t.status)}` +
      `${t.winner ? `, won by ${escapeHtml(t.winner)}` : ""}</h3><table class="list"><tr><th>#</th><th>player</th>` +
      `<th>points</th><th>W / L / D</th></tr>${rows}</table></div>`;
  }).join("");
}

route();
