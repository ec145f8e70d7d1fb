// Palisade's HTML report. Builds the page from the JSON data element with DOM
// calls that set text only (never innerHTML): manifest content is data, not
// markup. No network: everything the page needs is in this file.
"use strict";
(function () {
  var D = JSON.parse(document.getElementById("palisade-data").textContent);
  var SEV = ["info", "low", "medium", "high", "critical"];
  // Positions in a finding array (see html.rs `data`).
  var F_SEV = 0, F_RULE = 1, F_OBJ = 2, F_FILE = 3, F_LINE = 4, F_COL = 5, F_MSG = 6, F_FIX = 7,
    F_SLINE = 8, F_STEXT = 9, F_CARET = 10, F_CLEN = 11, F_EXEMPT = 12;
  var PAGE = 100;
  var app = document.getElementById("app");

  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    if (attrs) for (var k in attrs) {
      if (k === "text") e.textContent = attrs[k];
      else if (k === "class") e.className = attrs[k];
      else if (k.slice(0, 2) === "on") e.addEventListener(k.slice(2), attrs[k]);
      else e.setAttribute(k, attrs[k]);
    }
    (children || []).forEach(function (c) { if (c) e.appendChild(typeof c === "string" ? document.createTextNode(c) : c); });
    return e;
  }
  function section(title, id) {
    var s = el("section", { id: id }, [el("h2", { text: title })]);
    app.appendChild(s);
    return s;
  }
  function objName(i) {
    var o = D.objects[i];
    return o[0] + " " + (o[1] ? o[1] + "/" : "") + o[2];
  }
  function nsOf(f) { return D.objects[f[F_OBJ]][1] || "(cluster)"; }
  function table(headers, rows) {
    var t = el("table", null, [el("thead", null, [el("tr", null, headers.map(function (h) { return el("th", { text: h }); }))])]);
    var body = el("tbody");
    rows.forEach(function (r) {
      body.appendChild(el("tr", null, r.map(function (c) { return c instanceof Node ? el("td", null, [c]) : el("td", { text: c === null || c === undefined ? "" : String(c) }); })));
    });
    t.appendChild(body);
    return t;
  }
  function mark(ok, yes, no) { return el("span", { class: ok ? "pass" : "fail", text: ok ? yes : no }); }

  // Filter state, mirrored in the URL fragment so a view can be linked to.
  var state = { severity: "", layer: "", ns: "", rule: "", q: "", exempted: "" };
  function readHash() {
    var h = location.hash.replace(/^#/, "");
    h.split("&").forEach(function (kv) {
      if (!kv) return;
      var i = kv.indexOf("=");
      var k = decodeURIComponent(i < 0 ? kv : kv.slice(0, i));
      var v = i < 0 ? "1" : decodeURIComponent(kv.slice(i + 1).replace(/\+/g, " "));
      if (Object.prototype.hasOwnProperty.call(state, k)) state[k] = v;
    });
  }
  function writeHash() {
    var parts = [];
    for (var k in state) if (state[k]) parts.push(encodeURIComponent(k) + "=" + encodeURIComponent(state[k]));
    var h = parts.length ? "#" + parts.join("&") : "";
    if (location.hash !== h) history.replaceState(null, "", h || location.pathname + location.search);
  }

  // Counts for the overview.
  function counts(key) {
    var m = new Map();
    D.findings.forEach(function (f) {
      if (f[F_EXEMPT] !== null) return;
      var k = key(f);
      m.set(k, (m.get(k) || 0) + 1);
    });
    return Array.from(m.entries()).sort(function (a, b) { return b[1] - a[1] || (a[0] < b[0] ? -1 : 1); });
  }
  function bars(title, entries, field, label, cls, value) {
    var max = entries.reduce(function (m, e) { return Math.max(m, e[1]); }, 1);
    var list = el("ul", { class: "bars" });
    entries.slice(0, 15).forEach(function (e) {
      list.appendChild(el("li", {
        title: "Show only these findings",
        onclick: function () { state[field] = value ? value(e[0]) : String(e[0]); apply(true); },
      }, [
        el("span", { class: "name", text: label ? label(e[0]) : String(e[0]) }),
        el("span", { class: "bar " + (cls ? cls(e[0]) : ""), style: "width:" + Math.round(100 * e[1] / max) + "%" }),
        el("span", { class: "n", text: String(e[1]) }),
      ]));
    });
    if (entries.length > 15) list.appendChild(el("li", { class: "muted", text: "… " + (entries.length - 15) + " more" }));
    return el("div", null, [el("h3", { text: title }), entries.length ? list : el("p", { class: "muted", text: "none" })]);
  }

  function overview() {
    var s = D.summary;
    var sec = section("Posture at a glance", "overview");
    var cards = el("div", { class: "cards" }, [
      el("div", { class: "card" }, [el("b", { id: "score", text: s.score + "/100" }), "score"]),
      el("div", { class: "card" }, [el("b", { id: "total", text: String(s.findings) }), "findings"]),
    ]);
    for (var i = 4; i >= 1; i--) cards.appendChild(el("div", { class: "card" }, [el("b", { text: String(s.bySeverity[i]) }), el("span", { class: "sev sev-" + i, text: SEV[i] })]));
    cards.appendChild(el("div", { class: "card" }, [el("b", { text: String(s.objects) }), "objects in " + s.files + " files"]));
    if (s.exempted) cards.appendChild(el("div", { class: "card" }, [el("b", { text: String(s.exempted) }), "exempted"]));
    if (s.inputErrors) cards.appendChild(el("div", { class: "card" }, [el("b", { class: "fail", text: String(s.inputErrors) }), "input errors"]));
    sec.appendChild(cards);
    var grid = el("div", { class: "grid" }, [
      bars("By severity", counts(function (f) { return f[F_SEV]; }).sort(function (a, b) { return b[0] - a[0]; }), "severity",
        function (k) { return SEV[k]; }, function (k) { return "sev-" + k; }, function (k) { return SEV[k]; }),
      bars("By layer", counts(function (f) { return D.rules[f[F_RULE]][3]; }), "layer"),
      bars("By namespace", counts(nsOf), "ns"),
      bars("By rule", counts(function (f) { return D.rules[f[F_RULE]][0]; }), "rule"),
    ]);
    sec.appendChild(grid);
  }

  function podSecurity() {
    if (!D.namespaces.length) return;
    var sec = section("Pod Security level per namespace", "pod-security");
    sec.appendChild(table(["namespace", "enforce", "audit", "warn"], D.namespaces.map(function (n) {
      return [n[0], n[1] || el("span", { class: "none", text: "not set" }), n[2] || "", n[3] || ""];
    })));
  }

  // A circular layout: enough to see who talks to whom on small inputs; large
  // inputs get the tables only (a graph of thousands of nodes shows nothing).
  function graph(edges, admin) {
    var names = [];
    var index = new Map();
    edges.forEach(function (e) { [e[0], e[1]].forEach(function (n) { if (!index.has(n)) { index.set(n, names.length); names.push(n); } }); });
    if (!names.length || names.length > 80) return null;
    var size = 640, r = 220, c = size / 2, NS = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(NS, "svg");
    svg.setAttribute("viewBox", "-170 0 " + (size + 340) + " " + size);
    svg.setAttribute("class", "graph");
    var defs = document.createElementNS(NS, "defs");
    var marker = document.createElementNS(NS, "marker");
    [["id", "arrow"], ["viewBox", "0 0 10 10"], ["refX", "14"], ["refY", "5"], ["markerWidth", "6"], ["markerHeight", "6"], ["orient", "auto"]].forEach(function (a) { marker.setAttribute(a[0], a[1]); });
    var path = document.createElementNS(NS, "path");
    path.setAttribute("d", "M0,0 L10,5 L0,10 z");
    path.setAttribute("fill", "#868e96");
    marker.appendChild(path); defs.appendChild(marker); svg.appendChild(defs);
    var pos = names.map(function (_, i) { var a = 2 * Math.PI * i / names.length; return [c + r * Math.cos(a), c + r * Math.sin(a)]; });
    edges.forEach(function (e) {
      var a = pos[index.get(e[0])], b = pos[index.get(e[1])];
      var line = document.createElementNS(NS, "line");
      line.setAttribute("x1", a[0]); line.setAttribute("y1", a[1]); line.setAttribute("x2", b[0]); line.setAttribute("y2", b[1]);
      line.setAttribute("marker-end", "url(#arrow)");
      var t = document.createElementNS(NS, "title"); t.textContent = e[0] + " → " + e[1] + ": " + e[2];
      line.appendChild(t); svg.appendChild(line);
    });
    names.forEach(function (n, i) {
      var p = pos[i];
      var circle = document.createElementNS(NS, "circle");
      circle.setAttribute("cx", p[0]); circle.setAttribute("cy", p[1]); circle.setAttribute("r", 5);
      if (admin && admin(n)) circle.setAttribute("class", "admin");
      var text = document.createElementNS(NS, "text");
      text.setAttribute("x", p[0] + (p[0] >= c ? 8 : -8)); text.setAttribute("y", p[1] + 3);
      text.setAttribute("text-anchor", p[0] >= c ? "start" : "end");
      text.textContent = n.length > 40 ? n.slice(0, 39) + "…" : n;
      svg.appendChild(circle); svg.appendChild(text);
    });
    return svg;
  }

  function network() {
    var n = D.network;
    if (!n) return;
    var sec = section("NetworkPolicy connectivity and coverage", "network");
    if (n.error) sec.appendChild(el("p", { class: "muted", text: "Connectivity not shown: " + n.error }));
    var isolated = n.workloads.filter(function (w) { return w[2] && w[3]; }).length;
    sec.appendChild(el("p", { text: isolated + " of " + n.workloads.length + " workloads isolated for both ingress and egress." }));
    var g = graph(n.edges);
    if (g) sec.appendChild(g);
    var grid = el("div", { class: "grid" });
    grid.appendChild(el("div", { class: "scroll" }, [table(["namespace", "default-deny ingress", "default-deny egress"], n.namespaces.map(function (x) {
      return [x[0], x[1] || mark(false, "", "none"), x[2] || mark(false, "", "none")];
    }))]));
    grid.appendChild(el("div", { class: "scroll" }, [table(["workload", "ingress", "egress"], n.workloads.map(function (w) {
      return [w[0], mark(w[2], "isolated", "open"), mark(w[3], "isolated", "open")];
    }))]));
    sec.appendChild(grid);
    if (n.edges.length) {
      sec.appendChild(el("h3", { text: "Allowed connections" + (n.omitted ? " (first " + n.edges.length + "; " + n.omitted + " more)" : "") }));
      sec.appendChild(el("div", { class: "scroll" }, [table(["from", "to", "ports"], n.edges)]));
    }
  }

  function rbac() {
    var r = D.rbac;
    if (!r) return;
    var sec = section("RBAC risk and escalation paths", "rbac");
    if (r.risks.length) sec.appendChild(table(["risk", "severity", "grants"], r.risks.map(function (x) {
      return [x[0], el("span", { class: "sev sev-" + x[1], text: SEV[x[1]] }), x[2]];
    })));
    var g = graph(r.edges, function (n) { return n.indexOf("cluster-admin") === 0; });
    if (g) sec.appendChild(g);
    if (!r.paths.length) { sec.appendChild(el("p", { class: "muted", text: "No escalation paths." })); return; }
    var list = el("ol", { class: "scroll" });
    r.paths.forEach(function (p) {
      var item = el("li", null, [el("b", { text: p[0] }), " → " + p[2] + " ",
        p[4] === null ? null : el("span", { class: "sev sev-" + p[4], text: SEV[p[4]] })]);
      var steps = el("ul");
      p[1].forEach(function (s) { steps.appendChild(el("li", { text: s })); });
      item.appendChild(steps);
      list.appendChild(item);
    });
    sec.appendChild(list);
  }

  function compliance() {
    if (!D.compliance.length) return;
    var sec = section("Compliance", "compliance");
    D.compliance.forEach(function (c) {
      var d = el("details", null, [el("summary", null, [el("b", { text: c.title }), " " + c.percent + "% (" + c.passed + " passed, " + c.failed + " failed)"])]);
      d.appendChild(table(["control", "status", "findings", "objects", "rules"], c.controls.map(function (x) {
        return [x[0], mark(x[1] === "pass", "pass", "fail"), x[2], x[3], x[4]];
      })));
      sec.appendChild(d);
    });
  }

  function errors() {
    if (!D.errors.length) return;
    var sec = section("Input errors", "errors");
    sec.appendChild(table(["file", "line", "column", "code", "message"], D.errors));
  }

  // The findings list: filtered over the data, rendered a page at a time.
  var matches = [];
  var shown = 0;
  var listEl, countEl, moreEl, inputs = {};

  function matchesState(f) {
    if (f[F_EXEMPT] !== null && !state.exempted) return false;
    if (state.severity && f[F_SEV] < SEV.indexOf(state.severity)) return false;
    var rule = D.rules[f[F_RULE]];
    if (state.layer && rule[3] !== state.layer) return false;
    if (state.rule && rule[0] !== state.rule) return false;
    if (state.ns && nsOf(f) !== state.ns) return false;
    if (state.q) {
      var q = state.q.toLowerCase();
      var hay = (rule[0] + " " + objName(f[F_OBJ]) + " " + D.files[f[F_FILE]] + " " + D.strings[f[F_MSG]]).toLowerCase();
      if (hay.indexOf(q) < 0) return false;
    }
    return true;
  }

  function findingEl(f) {
    var rule = D.rules[f[F_RULE]];
    var where = D.files[f[F_FILE]] + (f[F_LINE] ? ":" + f[F_LINE] + ":" + f[F_COL] : "");
    var d = el("details", { class: "finding" + (f[F_EXEMPT] !== null ? " exempted" : ""), "data-rule": rule[0] });
    d.appendChild(el("summary", null, [
      el("span", { class: "sev sev-" + f[F_SEV], text: SEV[f[F_SEV]] }),
      el("span", null, [el("b", { text: rule[0] })]),
      el("span", null, [D.strings[f[F_MSG]], el("div", { class: "where", text: objName(f[F_OBJ]) + " — " + where })]),
    ]));
    // The body is built when opened: most findings are never opened.
    d.addEventListener("toggle", function () {
      if (!d.open || d.querySelector(".body")) return;
      var body = el("div", { class: "body" });
      if (rule[1]) body.appendChild(el("div", { text: rule[1] }));
      if (f[F_STEXT] !== null) {
        var num = String(f[F_SLINE]);
        var pad = new Array(num.length + 1).join(" ");
        body.appendChild(el("pre", { class: "src", text: num + " | " + f[F_STEXT] + "\n" + pad + " | " + new Array(f[F_CARET] + 1).join(" ") + new Array(Math.max(1, f[F_CLEN]) + 1).join("^") }));
      }
      if (f[F_EXEMPT] !== null) body.appendChild(el("div", { class: "muted", text: "exempted: " + f[F_EXEMPT] }));
      else if (D.strings[f[F_FIX]]) body.appendChild(el("div", { class: "fix", text: "fix: " + D.strings[f[F_FIX]] }));
      if (rule[4] && /^https?:\/\//.test(rule[4])) body.appendChild(el("a", { href: rule[4], rel: "noreferrer", target: "_blank", text: "documentation" }));
      d.appendChild(body);
    });
    return d;
  }

  function renderMore() {
    var end = Math.min(matches.length, shown + PAGE);
    var frag = document.createDocumentFragment();
    for (var i = shown; i < end; i++) frag.appendChild(findingEl(matches[i]));
    listEl.appendChild(frag);
    shown = end;
    moreEl.hidden = shown >= matches.length;
    moreEl.textContent = "Show more (" + (matches.length - shown) + " left)";
  }

  function apply(scroll) {
    for (var k in inputs) {
      if (inputs[k].type === "checkbox") inputs[k].checked = !!state[k];
      else inputs[k].value = state[k];
    }
    matches = D.findings.filter(matchesState);
    shown = 0;
    listEl.textContent = "";
    countEl.textContent = matches.length + " of " + D.findings.length + " findings";
    countEl.setAttribute("data-count", String(matches.length));
    renderMore();
    writeHash();
    if (scroll) document.getElementById("findings").scrollIntoView();
  }

  function select(name, label, values) {
    var s = el("select", { id: "filter-" + name, "aria-label": label });
    s.appendChild(el("option", { value: "", text: label + ": all" }));
    values.forEach(function (v) { s.appendChild(el("option", { value: v[0], text: v[1] })); });
    s.addEventListener("change", function () { state[name] = s.value; apply(false); });
    inputs[name] = s;
    return s;
  }

  function findings() {
    var sec = section("Findings", "findings");
    var uniq = function (key) { var m = new Set(); D.findings.forEach(function (f) { m.add(key(f)); }); return Array.from(m).sort(); };
    var q = el("input", { type: "search", id: "filter-q", placeholder: "Search rule, object, file, message…", "aria-label": "search" });
    var timer = null;
    q.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(function () { state.q = q.value; apply(false); }, 150); });
    inputs.q = q;
    var ex = el("input", { type: "checkbox", id: "filter-exempted" });
    ex.addEventListener("change", function () { state.exempted = ex.checked ? "1" : ""; apply(false); });
    inputs.exempted = ex;
    sec.appendChild(el("div", { id: "filters" }, [
      q,
      select("severity", "min severity", [4, 3, 2, 1, 0].map(function (i) { return [SEV[i], SEV[i] + (i < 4 ? " and above" : "")]; })),
      select("layer", "layer", uniq(function (f) { return D.rules[f[F_RULE]][3]; }).map(function (v) { return [v, v]; })),
      select("ns", "namespace", uniq(nsOf).map(function (v) { return [v, v]; })),
      select("rule", "rule", uniq(function (f) { return D.rules[f[F_RULE]][0]; }).map(function (v) { return [v, v]; })),
      el("label", null, [ex, " exempted"]),
      el("button", { id: "filter-clear", text: "Clear", onclick: function () { for (var k in state) state[k] = ""; apply(false); } }),
    ]));
    countEl = el("p", { id: "match-count", class: "muted" });
    listEl = el("div", { id: "finding-list" });
    moreEl = el("button", { id: "more", onclick: renderMore });
    sec.appendChild(countEl);
    sec.appendChild(listEl);
    sec.appendChild(moreEl);
  }

  overview();
  podSecurity();
  compliance();
  network();
  rbac();
  errors();
  findings();
  readHash();
  apply(false);
  window.addEventListener("hashchange", function () { for (var k in state) state[k] = ""; readHash(); apply(false); });
  document.body.setAttribute("data-ready", "1");
})();
