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
