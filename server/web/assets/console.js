// Stead console: small progressive enhancements shared by every page (loaded with defer from
// /assets/console.js; the CSP allows same-origin scripts only). Pages work without it.
'use strict';
(function () {
  // Confirm buttons that carry data-confirm (destructive actions) before their form posts.
  document.addEventListener('submit', function (e) {
    var btn = e.submitter;
    var text = btn && btn.getAttribute('data-confirm');
    if (text && !window.confirm(text)) e.preventDefault();
  });
})();
