// Stead console: the dashboard's charts and live updates (loaded with defer after
// /assets/uplot.iife.min.js; ADR 0019). Chart data comes from <script type="application/json"
// data-chart> elements the server rendered; each is drawn with uPlot into the element whose
// data-plot names it (stacked bars, time axis, legend values on hover, drag to zoom, double-click
// to reset). On the overview, #dashboard-live names a same-origin JSON endpoint polled every few
// seconds to redraw the tiles and tables with DOM text nodes (never innerHTML). Pages work
// without this script: the numbers are tables and the overview reloads itself.
'use strict';
(function () {
  var colors = {
    'in-sync': '#1a7f37', drifted: '#bf8700', failing: '#cf222e', 'not-reporting': '#6e7781', unknown: '#8250df',
    detected: '#bf8700', repaired: '#0969da', failed: '#cf222e'
  };
  var U = window.uPlot;

  function readJson(id) {
    var el = document.getElementById(id);
    if (!el) return null;
    try { return JSON.parse(el.textContent || 'null'); } catch (e) { return null; }
  }

  /** [x, top-of-stack, …, bottom]: each series is the sum of its layer and those below it. */
  function stack(x, layers, keys) {
    var n = x.length, acc = new Array(n).fill(null), cum = [];
    for (var i = 0; i < keys.length; i++) {
      var ys = layers[keys[i]], next = new Array(n);
      for (var j = 0; j < n; j++) {
        var v = ys[j];
        next[j] = v == null && acc[j] == null ? null : (acc[j] || 0) + (v || 0);
      }
      cum.push(next);
      acc = next;
    }
    return [x].concat(cum.reverse());
  }

  function fmt(v) {
    if (v == null) return '—';
    return Math.round(v * 100) / 100 + '';
  }

  function heightFor(el) { return el.clientWidth < 500 ? 180 : 240; }

  /** Draws stacked bars of `layers` (bottom first) into `el`; returns the uPlot. */
  function draw(el, x, layers, keys, step) {
    var data = stack(x, layers, keys);
    var top = keys.slice().reverse();
    var series = [{ label: step === 'month' ? 'Month' : step === 'day' ? 'Day' : 'Hour',
      value: function (u, v) {
        if (v == null) return '—';
        var iso = new Date(v * 1000).toISOString();
        return step === 'month' ? iso.slice(0, 7) : step === 'day' ? iso.slice(0, 10) : iso.slice(0, 13).replace('T', ' ') + ':00 UTC';
      } }];
    top.forEach(function (k) {
      series.push({
        label: k,
        stroke: colors[k] || '#57606a',
        fill: colors[k] || '#57606a',
        width: 0,
        paths: U.paths.bars({ size: [0.85, 60], align: 0 }),
        points: { show: false },
        value: function (u, v, si, i) { return i == null ? '—' : fmt(layers[k][i]); }
      });
    });
    var opts = {
      width: Math.max(el.clientWidth, 200),
      height: heightFor(el),
      series: series,
      scales: { x: { time: true }, y: { range: function (u, min, max) { return [0, Math.max(1, max)]; } } },
      // Whole hosts and events on the y axis (days and months are means, but ticks stay whole).
      axes: [{ space: 60 }, { size: 44, incrs: [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10000, 20000, 50000, 100000], values: function (u, vals) { return vals.map(fmt); } }],
      cursor: { drag: { x: true, y: false }, points: { show: false } },
      legend: { live: true }
    };
    while (el.firstChild) el.removeChild(el.firstChild);
    var u = new U(opts, data, el);
    el.setAttribute('data-drawn', String(x.length));
    return u;
  }

  var plots = [];
  function keep(el, u) {
    for (var i = 0; i < plots.length; i++) if (plots[i].el === el) { plots[i].u.destroy(); plots[i].u = u; return; }
    plots.push({ el: el, u: u });
  }

  function drawCompliance(el, chart, rangeId) {
    var r = chart.ranges.filter(function (x) { return x.id === rangeId; })[0] || chart.ranges[0];
    if (!r) return;
    keep(el, draw(el, r.x, r.y, chart.states, r.step));
    el.setAttribute('data-range', r.id);
    el.setAttribute('aria-label', 'Fleet compliance, ' + r.label);
    var card = el.closest('.card');
    if (!card) return;
    card.querySelectorAll('[data-range]').forEach(function (a) {
      if (a === el) return;
      var on = a.getAttribute('data-range') === r.id;
      a.classList.toggle('on', on);
      if (on) a.setAttribute('aria-current', 'true'); else a.removeAttribute('aria-current');
    });
  }

  function setup() {
    if (!U) return;
    document.querySelectorAll('[data-plot]').forEach(function (el) {
      var chart = readJson(el.getAttribute('data-plot'));
      if (!chart) return;
      if (chart.kind === 'compliance') {
        drawCompliance(el, chart, chart.initial);
        var card = el.closest('.card');
        if (card) card.querySelectorAll('a[data-range]').forEach(function (a) {
          a.addEventListener('click', function (e) {
            e.preventDefault();
            drawCompliance(el, chart, a.getAttribute('data-range'));
          });
        });
      } else if (chart.kind === 'drift') {
        keep(el, draw(el, chart.x, chart.y, chart.kinds, 'day'));
      }
    });
    var pending = 0;
    window.addEventListener('resize', function () {
      clearTimeout(pending);
      pending = setTimeout(function () {
        plots.forEach(function (p) { p.u.setSize({ width: Math.max(p.el.clientWidth, 200), height: heightFor(p.el) }); });
      }, 100);
    });
  }

  // Live updates of the overview.
  var lastRows = {};
  function cellNode(c) {
    var td = document.createElement('td');
    if (c.n) td.className = 'num';
    var inner = td;
    if (c.h) { var a = document.createElement('a'); a.href = c.h; td.appendChild(a); inner = a; }
    if (c.b) { var s = document.createElement('span'); s.className = 's ' + c.b; inner.appendChild(s); inner = s; }
    inner.appendChild(document.createTextNode(c.t));
    return td;
  }
  function fill(id, rows) {
    var table = document.getElementById(id);
    var tbody = table && table.querySelector('tbody');
    if (!tbody) return;
    var key = JSON.stringify(rows);
    if (lastRows[id] === undefined) lastRows[id] = null; // first poll: always redraw once
    if (lastRows[id] === key) return;
    lastRows[id] = key;
    var frag = document.createDocumentFragment();
    if (rows.length === 0) {
      var tr = document.createElement('tr'), td = document.createElement('td');
      td.colSpan = table.querySelectorAll('thead th').length || 1;
      td.className = 'muted';
      td.textContent = 'None right now.';
      tr.appendChild(td);
      frag.appendChild(tr);
    }
    rows.forEach(function (row) {
      var tr = document.createElement('tr');
      if (id === 'hosts' && row[0]) tr.setAttribute('data-host', row[0].t);
      row.forEach(function (c) { tr.appendChild(cellNode(c)); });
      frag.appendChild(tr);
    });
    while (tbody.firstChild) tbody.removeChild(tbody.firstChild);
    tbody.appendChild(frag);
  }
  function text(sel, value) {
    document.querySelectorAll(sel).forEach(function (el) {
      var n = el.querySelector('.n') || el;
      n.textContent = value;
    });
  }
  function apply(m) {
    text('[data-fleet-percent]', m.fleet.percent + ' %');
    text('[data-fleet-total]', String(m.fleet.total));
    Object.keys(m.fleet.counts).forEach(function (s) { text('[data-count="' + s + '"]', String(m.fleet.counts[s])); });
    Object.keys(m.totals).forEach(function (k) { text('[data-total="' + k + '"]', String(m.totals[k])); });
    Object.keys(m.tables).forEach(function (id) { fill(id, m.tables[id]); });
    var st = document.getElementById('live-status');
    if (st) st.textContent = 'Live: updated ' + m.at.slice(11, 19) + ' UTC';
  }
  function live() {
    var el = document.getElementById('dashboard-live');
    var src = el && el.getAttribute('data-src');
    if (!src) return;
    var busy = false;
    var poll = function () {
      if (busy || document.hidden) return;
      busy = true;
      fetch(src, { credentials: 'same-origin', headers: { accept: 'application/json' } })
        .then(function (r) { if (!r.ok) throw new Error('HTTP ' + r.status); return r.json(); })
        .then(apply)
        .catch(function (e) {
          var st = document.getElementById('live-status');
          if (st) st.textContent = 'Live updates failed (' + e.message + '); reload the page.';
        })
        .then(function () { busy = false; });
    };
    setInterval(poll, 4000);
  }

  setup();
  live();
})();
