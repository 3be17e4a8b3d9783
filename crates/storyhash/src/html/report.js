// The report page: everything is drawn from the JSON in #data. Input text only ever
// becomes text nodes (textContent), never markup.
"use strict";
(function () {
  const data = JSON.parse(document.getElementById("data").textContent);
  const app = document.getElementById("app");
  const PAGE = 100;
  const el = (tag, attrs, ...children) => {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "text") node.textContent = v; else node.setAttribute(k, v);
    }
    for (const c of children) if (c != null) node.append(c);
    return node;
  };
  const svg = (tag, attrs) => {
    const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    return node;
  };

  // Bars of `values` with `labels`; `marker` (0..1 along the x axis) draws a line.
  function barChart(values, labels, marker) {
    const w = 320, h = 140, pad = 20, max = Math.max(1, ...values);
    const root = svg("svg", { width: w, height: h + 18, role: "img" });
    const bw = (w - pad) / values.length;
    values.forEach((v, i) => {
      const bh = (h - 10) * v / max;
      root.append(svg("rect", { class: "bar", x: pad + i * bw + 1, y: h - bh, width: bw - 2, height: bh }));
      if (labels[i] !== "") {
        const t = svg("text", { x: pad + i * bw + bw / 2, y: h + 12, "text-anchor": "middle" });
        t.textContent = labels[i];
        root.append(t);
      }
    });
    if (marker != null) {
      const x = pad + marker * (w - pad);
      root.append(svg("line", { class: "threshold", x1: x, x2: x, y1: 0, y2: h }));
    }
    return root;
  }

  function curveChart(curve) {
    const w = 320, h = 140, pad = 20;
    const root = svg("svg", { width: w, height: h + 18, role: "img" });
    const pts = curve.points.map(([s, p]) => `${pad + s * (w - pad)},${h - p * (h - 10)}`).join(" ");
    root.append(svg("polyline", { class: "curve", points: pts }));
    const x = pad + curve.threshold * (w - pad);
    root.append(svg("line", { class: "threshold", x1: x, x2: x, y1: 0, y2: h }));
    for (const s of [0, 0.5, 1]) {
      const t = svg("text", { x: pad + s * (w - pad), y: h + 12, "text-anchor": "middle" });
      t.textContent = String(s);
      root.append(t);
    }
    return root;
  }

  function overview() {
    const cards = el("div", { class: "cards" },
      ...data.overview.map(([k, v]) => el("div", { class: "card" }, el("b", { text: v }), k)));
    const params = el("p", { class: "muted", text: data.params.map(([k, v]) => `${k}: ${v}`).join(" · ") });
    const charts = el("div", { class: "charts" });
    charts.append(el("figure", { id: "sizes" },
      barChart(data.sizes.map(s => s[1]), data.sizes.map(s => s[0]), null),
      el("figcaption", { text: "groups by size (documents)" })));
    if (data.similarities) {
      const n = data.similarities.bins.length;
      const labels = data.similarities.bins.map((_, i) => (i % 5 === 0 ? (i / n).toFixed(2) : ""));
      charts.append(el("figure", { id: "similarities" },
        barChart(data.similarities.bins, labels, data.similarities.threshold),
        el("figcaption", { text: `verified pairs by exact Jaccard; threshold ${data.similarities.threshold}` })));
    }
    if (data.curve) {
      const c = data.curve;
      charts.append(el("figure", { id: "curve" }, curveChart(c),
        el("figcaption", { text: `P(candidate | J) for ${c.bands} bands x ${c.rows} rows; at the threshold ${c.threshold}: ${(100 * c.recall).toFixed(1)}% of pairs are compared` })));
    }
    return el("section", {}, el("h1", { text: data.title }), cards, params, charts);
  }

  // Words as the highlighter compares them: letters and digits, lowercased.
  const words = text => Array.from(text.matchAll(/[\p{L}\p{N}]+/gu), m => ({ w: m[0].toLowerCase(), at: m.index, end: m.index + m[0].length }));

  // `text` as nodes, the words covered by an n-gram also in `other` wrapped in <mark>.
  function highlighted(text, other, n) {
    const mine = words(text), theirs = words(other);
    const grams = new Set();
    for (let i = 0; i + n <= theirs.length; i++) grams.add(theirs.slice(i, i + n).map(x => x.w).join(" "));
    const shared = new Array(mine.length).fill(false);
    for (let i = 0; i + n <= mine.length; i++) {
      if (grams.has(mine.slice(i, i + n).map(x => x.w).join(" "))) for (let j = i; j < i + n; j++) shared[j] = true;
    }
    const out = document.createDocumentFragment();
    let pos = 0, i = 0;
    while (i < mine.length) {
      if (!shared[i]) { i++; continue; }
      let j = i;
      while (j + 1 < mine.length && shared[j + 1]) j++;
      out.append(text.slice(pos, mine[i].at));
      out.append(el("mark", { text: text.slice(mine[i].at, mine[j].end) }));
      pos = mine[j].end;
      i = j + 1;
    }
    out.append(text.slice(pos));
    return out;
  }

  const pair = el("section", { id: "pair", role: "dialog" });
  function openPair(a, b) {
    const ta = data.texts[a], tb = data.texts[b];
    pair.replaceChildren();
    const close = el("button", { id: "close-pair", text: "close" });
    close.addEventListener("click", () => pair.classList.remove("open"));
    pair.append(el("header", {}, el("b", { text: `${a}  ↔  ${b}` }), close));
    const n = Math.max(1, Math.min(data.shingle_words, 5));
    const side = (id, text, other) => el("div", { class: "side", dir: "auto", "data-id": id },
      text == null ? el("span", { class: "muted", text: "text not included in this report" }) : highlighted(text, other || "", n));
    pair.append(el("div", { class: "sides" }, side(a, ta, tb), side(b, tb, ta)));
    pair.classList.add("open");
  }

  function groupBody(g) {
    const chosen = [];
    const compare = el("button", { class: "compare", text: "compare the two checked", disabled: "" });
    compare.addEventListener("click", () => openPair(chosen[0], chosen[1]));
    const rows = g.members.map(m => {
      const box = el("input", { type: "checkbox", "aria-label": `choose ${m.id}` });
      box.addEventListener("change", () => {
        if (box.checked) { chosen.push(m.id); if (chosen.length > 2) { const old = chosen.shift(); body.querySelector(`input[data-id="${CSS.escape(old)}"]`).checked = false; } }
        else chosen.splice(chosen.indexOf(m.id), 1);
        compare.toggleAttribute("disabled", chosen.length !== 2);
      });
      box.dataset.id = m.id;
      const copies = m.copies.length ? el("div", { class: "muted", text: `copies: ${m.copies.join(", ")}` }) : null;
      // In a story: the terms that tie the member to the others.
      const shares = m.terms ? el("div", { class: "muted", dir: "auto", text: `shares: ${m.terms.join(", ")}` }) : null;
      return el("tr", { class: m.kept ? "member kept" : "member" },
        el("td", {}, box),
        el("td", { text: m.kept ? "kept" : "" }),
        el("td", { dir: "auto" }, el("span", { text: m.headline }), shares, copies),
        el("td", { text: m.id }),
        el("td", { text: m.source || "" }),
        el("td", { text: m.date || "" }),
        el("td", { text: m.similarity == null ? "" : m.similarity.toFixed(3) }));
    });
    const table = el("table", {}, el("tr", {}, el("th", {}), el("th", {}), el("th", { text: "headline" }), el("th", { text: "id" }), el("th", { text: "source" }), el("th", { text: "date" }), el("th", { text: data.similarity_heading })), ...rows);
    const body = el("div", { class: "body" }, table, compare);
    if (g.terms.length) body.append(el("p", { class: "muted", text: `shared terms: ${g.terms.join(", ")}` }));
    for (const p of g.passages) body.append(el("p", { class: "muted", dir: "auto", text: `shared: "${p}"` }));
    return body;
  }

  function groupNode(g) {
    const details = el("details", { class: "group", "data-group": g.id });
    const head = g.members[0];
    // A dated story says over which days it ran.
    const days = g.days ? (g.days[0] === g.days[1] ? `, ${g.days[0]}` : `, ${g.days[0]} to ${g.days[1]}`) : "";
    details.append(el("summary", {}, el("b", { text: `${data.kind === "stories" ? "story" : "cluster"} ${g.id}: ${g.size} documents${days}` }), "  ", el("span", { dir: "auto", text: head.headline })));
    details.addEventListener("toggle", () => { if (details.open && details.children.length === 1) details.append(groupBody(g)); });
    return details;
  }

  function list() {
    const section = el("section", {}, el("h2", { text: data.kind === "stories" ? "Stories" : "Clusters" }));
    const search = el("input", { type: "search", id: "filter", placeholder: "filter by id, headline or term" });
    const minSize = el("input", { type: "number", id: "min-size", min: "2", value: "2", style: "width:5em" });
    section.append(el("div", { class: "controls" }, search, el("label", {}, "min size ", minSize)));
    const holder = el("div", { id: "groups" });
    const more = el("button", { id: "more", text: "show more" });
    section.append(holder, more, el("p", { class: "muted", id: "singletons", text: `${data.singletons} documents in no ${data.kind === "stories" ? "story of their own size above one" : "cluster"}` }));
    let shown = [], next = 0;
    const render = () => {
      const q = search.value.trim().toLowerCase(), min = Number(minSize.value) || 2;
      shown = data.groups.filter(g => g.size >= min && (!q || g.members.some(m => m.id.toLowerCase().includes(q) || m.headline.toLowerCase().includes(q)) || g.terms.some(t => t.includes(q))));
      holder.replaceChildren(); next = 0; page();
    };
    const page = () => {
      for (const g of shown.slice(next, next + PAGE)) holder.append(groupNode(g));
      next += PAGE;
      more.style.display = next < shown.length ? "" : "none";
    };
    search.addEventListener("input", render);
    minSize.addEventListener("input", render);
    more.addEventListener("click", page);
    render();
    return section;
  }

  app.replaceChildren(overview(), list(), pair);
})();
