// The board: a CSS grid of tiles, drawn from live views (tile codes) or replay frames (full state).
"use strict";

const TILE = { EMPTY: 0, MINE: 1, ENEMY: 2, ALLY: 3, MOUNTAIN: 4, FOG: 5, FOG_OBSTACLE: 6 };
const CITY_BIT = 8, GENERAL_BIT = 16;
const TERRAIN = { PLAIN: 0, MOUNTAIN: 1, CITY: 2, GENERAL: 3 };
const DIRECTIONS = ["up", "down", "left", "right"];
const OFFSETS = { up: [-1, 0], down: [1, 0], left: [0, -1], right: [0, 1] };
const ARROWS = { up: "↑", down: "↓", left: "←", right: "→" };
const COLORS = ["#e0302b", "#2765d8", "#268c2a", "#7b2ab8", "#1d9a9a", "#c46b12", "#8a1a3a", "#b0a80f"];

class Board {
  /** A board in `element`; `onClick(row, col)` is called when a tile is clicked. */
  constructor(element, onClick) {
    this.element = element;
    this.onClick = onClick || null;
    this.height = 0;
    this.width = 0;
    this.cells = [];
  }

  resize(height, width) {
    if (height === this.height && width === this.width) return;
    this.height = height;
    this.width = width;
    this.element.innerHTML = "";
    this.element.style.gridTemplateColumns = `repeat(${width}, var(--tile))`;
    this.cells = [];
    for (let i = 0; i < height * width; i++) {
      const cell = document.createElement("div");
      cell.className = "tile";
      cell.dataset.row = String(Math.floor(i / width));
      cell.dataset.col = String(i % width);
      if (this.onClick) {
        cell.addEventListener("click", () => this.onClick(Math.floor(i / width), i % width));
      }
      this.element.appendChild(cell);
      this.cells.push(cell);
    }
  }

  /** Draw `tiles`: for each tile {cls: [...classes], army: number}. `marks`: tile -> arrows. */
  draw(tiles, marks) {
    tiles.forEach((tile, i) => {
      const cell = this.cells[i];
      const cls = "tile " + tile.cls.join(" ");
      if (cell.className !== cls) cell.className = cls;
      let html = tile.army ? String(tile.army) : "";
      for (const direction of (marks && marks.get(i)) || []) {
        html += `<span class="arrow ${direction}">${ARROWS[direction]}</span>`;
      }
      if (cell.innerHTML !== html) cell.innerHTML = html;
    });
  }
}

/** Tiles of a live view (its tile codes) for the player of seat `seat` against `enemySeat`. */
function viewTiles(view, enemySeat) {
  return view.tiles.map((code, i) => {
    const base = code & 7;
    const cls = [];
    if (base === TILE.MINE) cls.push(`p${view.seat % 8}`, "mine");
    else if (base === TILE.ENEMY) cls.push(enemySeat === null ? "enemy" : `p${enemySeat % 8}`, "theirs");
    else if (base === TILE.ALLY) cls.push("ally");
    else if (base === TILE.MOUNTAIN) cls.push("mountain");
    else if (base === TILE.FOG) cls.push("fog");
    else if (base === TILE.FOG_OBSTACLE) cls.push("fog", "obstacle");
    else cls.push("empty");
    if (code & CITY_BIT) cls.push("city");
    if (code & GENERAL_BIT) cls.push("general");
    return { cls, army: view.armies[i] };
  });
}

/** Tiles of a replay board ({owners, armies, terrain}) as `fogOf` sees it (null: everything). */
function replayTiles(board, width, fogOf, teams) {
  const n = board.owners.length;
  let visible = null;
  if (fogOf !== null) {
    const mates = (p) => p === fogOf || (teams && teams[p] === teams[fogOf]);
    visible = new Uint8Array(n);
    const height = n / width;
    for (let i = 0; i < n; i++) {
      if (board.owners[i] < 0 || !mates(board.owners[i])) continue;
      const r = Math.floor(i / width), c = i % width;
      for (let dr = -1; dr <= 1; dr++) {
        for (let dc = -1; dc <= 1; dc++) {
          const rr = r + dr, cc = c + dc;
          if (rr >= 0 && rr < height && cc >= 0 && cc < width) visible[rr * width + cc] = 1;
        }
      }
    }
  }
  const tiles = [];
  for (let i = 0; i < n; i++) {
    const terrain = board.terrain[i];
    if (visible && !visible[i]) {
      const obstacle = terrain === TERRAIN.MOUNTAIN || terrain === TERRAIN.CITY;
      tiles.push({ cls: obstacle ? ["fog", "obstacle"] : ["fog"], army: 0 });
      continue;
    }
    const owner = board.owners[i];
    const cls = [];
    if (terrain === TERRAIN.MOUNTAIN) cls.push("mountain");
    else cls.push(owner >= 0 ? `p${owner % 8}` : "empty");
    if (terrain === TERRAIN.CITY) cls.push("city");
    if (terrain === TERRAIN.GENERAL) cls.push("general");
    tiles.push({ cls, army: terrain === TERRAIN.MOUNTAIN ? 0 : board.armies[i] });
  }
  return tiles;
}

/** Arrows for queued moves: tile index -> directions. */
function queueMarks(queue, width) {
  const marks = new Map();
  for (const move of queue) {
    const i = move.row * width + move.col;
    if (!marks.has(i)) marks.set(i, []);
    marks.get(i).push(move.direction);
  }
  return marks;
}
