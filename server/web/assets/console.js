// Stead console: small progressive enhancements shared by every page (loaded with defer from
// /assets/console.js; the CSP allows same-origin scripts only). Every page works without it.
'use strict';
(function () {
  // Confirm buttons that carry data-confirm (destructive actions) before their form posts.
  document.addEventListener('submit', function (e) {
    var btn = e.submitter;
    var text = btn && btn.getAttribute('data-confirm');
    if (text && !window.confirm(text)) e.preventDefault();
  });

  // On a phone the nav folds behind a Menu button (without script it simply wraps).
  var header = document.querySelector('header');
  var menu = header && header.querySelector('button.menu');
  if (header && menu) {
    header.classList.add('js-nav');
    menu.addEventListener('click', function () {
      var open = header.classList.toggle('open');
      menu.setAttribute('aria-expanded', open ? 'true' : 'false');
    });
    document.addEventListener('keydown', function (e) {
      if (e.key === 'Escape' && header.classList.contains('open')) {
        header.classList.remove('open');
        menu.setAttribute('aria-expanded', 'false');
        menu.focus();
      }
    });
  }
})();

// Live pages (jobs, rollouts, the overview): <body data-refresh="N"> re-fetches the page every N
// seconds and swaps its <main> in place, so the scroll position, the open <details> and anything
// being typed survive (a meta refresh inside <noscript> does the same job without script). The
// update waits while a field in <main> has focus or has been edited, and while the tab is hidden.
// After a swap, `stead:refreshed` is dispatched on document so page scripts can redraw.
(function () {
  var secs = Number(document.body.getAttribute('data-refresh') || 0);
  if (!(secs > 0) || !window.fetch || !window.DOMParser) return;
  var dirty = false;
  document.addEventListener('input', function (e) {
    if (e.target && e.target.closest && e.target.closest('main')) dirty = true;
  });
  function busy() {
    var a = document.activeElement;
    return dirty || (a && a.closest && a.closest('main') && /^(INPUT|TEXTAREA|SELECT)$/.test(a.tagName));
  }
  function openState(main) {
    return Array.prototype.map.call(main.querySelectorAll('details'), function (d) { return d.open; });
  }
  function tick() {
    if (document.hidden || busy()) return;
    var here = location.href;
    fetch(here, { credentials: 'same-origin', headers: { 'X-Stead-Live': '1' } })
      .then(function (r) {
        // A redirect (the session ended) or an error: let the browser show it for real.
        if (!r.ok || r.url !== here) { location.reload(); return null; }
        return r.text();
      })
      .then(function (html) {
        if (html === null || busy() || location.href !== here) return;
        var doc = new DOMParser().parseFromString(html, 'text/html');
        var next = doc.querySelector('main');
        var cur = document.querySelector('main');
        if (!next || !cur) return;
        var open = openState(cur);
        var fresh = document.adoptNode(next);
        var details = fresh.querySelectorAll('details');
        if (details.length === open.length) for (var i = 0; i < details.length; i++) details[i].open = open[i];
        cur.replaceWith(fresh);
        document.title = doc.title;
        if (doc.body.getAttribute('data-refresh') === null) {
          clearInterval(timer); // finished (a job or rollout that ended): stop refreshing
          document.body.removeAttribute('data-refresh');
        }
        document.dispatchEvent(new CustomEvent('stead:refreshed'));
      })
      .catch(function () { /* a lost network: try again on the next tick */ });
  }
  var timer = setInterval(tick, secs * 1000);
})();
