// The status page's live part: every two seconds it reads /status and
// /status/history from this node (same origin, relative URLs) and redraws
// the members, the elections and three small SVG charts. Text goes in with
// textContent only, never as HTML.
"use strict";
(function () {
  var SVG = "http://www.w3.org/2000/svg";
  var colors = ["#2f6fdb", "#d9822b", "#2e9d5b", "#a33ea1", "#b3261e"];

  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }
  function set(id, text) { document.getElementById(id).textContent = String(text); }

  function health(m) {
    if (m.unreachable) return "unreachable";
    if (m.answered) return "ok";
    return m.error ? "no answer: " + m.error : "no answer";
  }

  function renderStatus(st) {
    set("node", st.node_id);
    set("role", st.role);
    set("leader", st.leader || "none known");
    set("term", st.term);
    set("commit", st.commit_index);
    set("applied", st.applied_index);
    set("sessions", st.sessions);
    var body = document.querySelector("#members tbody");
    body.replaceChildren();
    (st.members || []).forEach(function (m) {
      var tr = el("tr");
      tr.dataset.node = m.node_id;
      if (m.leader) tr.className = "leader";
      var name = el("td", m.node_id);
      if (m.leader) { name.append(" "); name.append(el("span", "leader", "badge")); }
      var h = health(m);
      tr.append(name, el("td", m.role || "?", "role"), el("td", h, "health" + (h === "ok" ? "" : " bad")),
        el("td", m.applied_index), el("td", m.lag), el("td", m.raft_addr), el("td", m.suffrage));
      body.append(tr);
    });
  }

  function renderElections(list) {
    var body = document.querySelector("#elections tbody");
    body.replaceChildren();
    list.slice().reverse().forEach(function (e) {
      var tr = el("tr");
      tr.append(el("td", e.time.replace("T", " ").replace(/\..*|Z$/, "")), el("td", e.term), el("td", e.leader || "none"));
      body.append(tr);
    });
  }

  // chart draws series ({name: [values]}) as polylines scaled to the
  // largest value, with that value as a label.
  function chart(id, series) {
    var svg = document.getElementById(id), w = 300, h = 80, max = 0, i = 0;
    svg.replaceChildren();
    Object.keys(series).forEach(function (k) {
      series[k].forEach(function (v) { if (v > max) max = v; });
    });
    var top = max > 0 ? max : 1;
    Object.keys(series).sort().forEach(function (k) {
      var vals = series[k], n = vals.length, pts = [];
      vals.forEach(function (v, j) {
        var x = n > 1 ? (j * w) / (n - 1) : w;
        pts.push(x.toFixed(1) + "," + (h - 4 - (v / top) * (h - 16)).toFixed(1));
      });
      var line = document.createElementNS(SVG, "polyline");
      line.setAttribute("points", pts.join(" "));
      line.setAttribute("stroke", colors[i++ % colors.length]);
      line.appendChild(document.createElementNS(SVG, "title")).textContent = k;
      svg.append(line);
    });
    var label = document.createElementNS(SVG, "text"), names = Object.keys(series).sort();
    label.setAttribute("x", "4");
    label.setAttribute("y", "10");
    label.textContent = "max " + (Math.round(max * 10) / 10);
    if (names.length > 1) {
      names.forEach(function (k, j) { // a legend in the lines' colors
        var span = document.createElementNS(SVG, "tspan");
        span.setAttribute("fill", colors[j % colors.length]);
        span.textContent = " · " + k;
        label.append(span);
      });
    }
    svg.append(label);
  }

  function renderHistory(hist) {
    var s = hist.samples || [], lag = {};
    s.forEach(function (x, j) {
      Object.keys(x.lag || {}).forEach(function (id) {
        if (!lag[id]) lag[id] = new Array(j).fill(0);
        lag[id].push(x.lag[id]);
      });
      Object.keys(lag).forEach(function (id) { if (lag[id].length < j + 1) lag[id].push(0); });
    });
    chart("chart-reads", { reads: s.map(function (x) { return x.reads_per_sec; }) });
    chart("chart-writes", {
      "this node's sessions": s.map(function (x) { return x.writes_per_sec; }),
      "entries applied": s.map(function (x) { return x.applied_per_sec; })
    });
    chart("chart-lag", lag);
    renderElections(hist.elections || []);
  }

  function getJSON(url) {
    return fetch(url, { cache: "no-store", credentials: "omit" }).then(function (r) {
      if (!r.ok) throw new Error(url + ": HTTP " + r.status);
      return r.json();
    });
  }

  function refresh() {
    Promise.all([getJSON("status"), getJSON("status/history")]).then(function (r) {
      renderStatus(r[0]);
      renderHistory(r[1]);
      set("updated", "updated " + new Date().toISOString().replace("T", " ").replace(/\..*/, "") + " UTC");
      document.body.dataset.live = "yes";
    }).catch(function (e) {
      set("updated", "update failed: " + e.message);
    });
  }

  refresh();
  setInterval(refresh, 2000);
})();
