// Stead console: the manifest editor's enhancements (loaded with defer from /assets/editor.js on
// /manifests/edit; the CSP allows same-origin scripts only). Without it the page still works:
// Save posts the form and the server checks on save.
//   - the line gutter follows the text and its scrolling;
//   - the text is checked as you type (debounced POST /manifests/check with the session cookie),
//     problems listed with their line; activating one moves the caret to that line;
//   - a template's preview renders the text in the editor for the chosen host without a reload.
// Data is written with textContent and DOM calls only, never as HTML.
'use strict';
(function () {
  var form = document.getElementById('edit-form');
  var area = document.getElementById('content');
  var gutter = document.getElementById('gutter');
  if (!form || !area) return;
  var path = form.getAttribute('data-path') || '';
  var draft = form.getAttribute('data-draft');
  var list = document.getElementById('problems');
  var state = document.getElementById('checkstate');

  function lineCount(text) {
    var n = 1;
    for (var i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) n++;
    return n;
  }
  var shownLines = 0;
  function updateGutter() {
    if (!gutter) return;
    var n = lineCount(area.value);
    if (n !== shownLines) {
      var parts = [];
      for (var i = 1; i <= n; i++) parts.push(String(i));
      gutter.textContent = parts.join('\n');
      shownLines = n;
    }
    gutter.scrollTop = area.scrollTop;
  }
  area.addEventListener('scroll', function () {
    if (gutter) gutter.scrollTop = area.scrollTop;
  });

  /** Moves the caret to `line` (1-based), column `col`, and scrolls it into view. */
  function goTo(line, col) {
    var lines = area.value.split('\n');
    var at = 0;
    for (var i = 0; i < line - 1 && i < lines.length; i++) at += lines[i].length + 1;
    var within = Math.max(0, Math.min((col || 1) - 1, (lines[line - 1] || '').length));
    area.focus();
    area.setSelectionRange(at + within, at + within);
    var lh = parseFloat(window.getComputedStyle(area).lineHeight) || 18;
    area.scrollTop = Math.max(0, (line - 3) * lh);
    updateGutter();
  }
  if (list) {
    list.addEventListener('click', function (e) {
      var a = e.target && e.target.closest ? e.target.closest('a[data-line]') : null;
      if (!a) return;
      e.preventDefault();
      goTo(Number(a.getAttribute('data-line')), Number(a.getAttribute('data-column') || '1'));
    });
  }

  function render(result) {
    if (!list) return;
    while (list.firstChild) list.removeChild(list.firstChild);
    var all = (result.problems || []).concat(result.elsewhere || []);
    all.forEach(function (p) {
      var li = document.createElement('li');
      li.className = p.severity === 'warning' ? 'warning' : 'error';
      var here = p.file === path || p.file === undefined;
      if (here && p.line) {
        var a = document.createElement('a');
        a.href = '#content';
        a.setAttribute('data-line', String(p.line));
        a.setAttribute('data-column', String(p.column || 1));
        a.textContent = 'line ' + p.line + (p.column ? ', column ' + p.column : '');
        li.appendChild(a);
        li.appendChild(document.createTextNode(' '));
      } else if (!here) {
        var where = document.createElement('span');
        where.className = 'mono';
        where.textContent = p.file + (p.line ? ':' + p.line : '') + ' ';
        li.appendChild(where);
      }
      if (p.path) {
        var ptr = document.createElement('span');
        ptr.className = 'mono muted';
        ptr.textContent = p.path + ' ';
        li.appendChild(ptr);
      }
      li.appendChild(document.createTextNode(p.message));
      list.appendChild(li);
    });
    if (state) {
      state.className = 'checkstate ' + (result.ok ? 'ok' : 'bad');
      state.textContent = result.ok ? 'No problems found.' : all.length + ' problem(s).';
    }
  }

  var seq = 0;
  var timer = null;
  function check() {
    var mine = ++seq;
    if (state) state.textContent = 'Checking…';
    var body = { path: path, content: area.value };
    if (draft) body.draft = draft;
    fetch('/manifests/check', { method: 'POST', credentials: 'same-origin', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
      .then(function (r) {
        return r.json().then(function (j) {
          return { status: r.status, json: j };
        });
      })
      .then(function (r) {
        if (mine !== seq) return; // a newer check is on its way
        if (r.status !== 200) {
          if (state) {
            state.className = 'checkstate bad';
            state.textContent = 'The check failed: ' + ((r.json && r.json.error && r.json.error.message) || 'status ' + r.status);
          }
          return;
        }
        render(r.json);
      })
      .catch(function () {
        if (mine === seq && state) state.textContent = 'The check could not reach the server; it runs again on save.';
      });
  }
  area.addEventListener('input', function () {
    updateGutter();
    if (timer) clearTimeout(timer);
    timer = setTimeout(check, 400);
  });
  updateGutter();

  // The template preview, with the text as it is in the editor.
  var pform = document.getElementById('preview-form');
  var out = document.getElementById('preview');
  if (pform && out) {
    pform.addEventListener('submit', function (e) {
      var host = pform.querySelector('select[name=host]');
      if (!host || !host.value) return;
      e.preventDefault();
      var body = { template: path, host: host.value, content: area.value };
      if (draft) body.draft = draft;
      while (out.firstChild) out.removeChild(out.firstChild);
      var wait = document.createElement('p');
      wait.className = 'muted';
      wait.textContent = 'Rendering for ' + host.value + '…';
      out.appendChild(wait);
      fetch('/manifests/preview', { method: 'POST', credentials: 'same-origin', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
        .then(function (r) {
          return r.json();
        })
        .then(function (p) {
          while (out.firstChild) out.removeChild(out.firstChild);
          if (p.error) {
            var bad = document.createElement('p');
            bad.className = 'err';
            bad.textContent = p.error.message;
            out.appendChild(bad);
          } else if (p.sensitive) {
            var s = document.createElement('p');
            s.className = 'muted';
            s.textContent = 'The result depends on a secret: it is not shown.';
            out.appendChild(s);
          } else if (p.ok) {
            var pre = document.createElement('pre');
            pre.className = 'preview';
            pre.tabIndex = 0;
            pre.id = 'preview-output';
            pre.textContent = p.content || '';
            out.appendChild(pre);
          } else {
            var ul = document.createElement('ul');
            ul.className = 'problems';
            (p.problems || []).forEach(function (x) {
              var li = document.createElement('li');
              li.textContent = (x.line ? 'line ' + x.line + ': ' : '') + x.message;
              ul.appendChild(li);
            });
            out.appendChild(ul);
          }
        })
        .catch(function () {
          out.textContent = 'The preview could not reach the server.';
        });
    });
  }
})();
