/* suggest.js: type-ahead for input[data-suggest] (WAI-ARIA 1.2 combobox + listbox), fed by
 * GET /search/suggest?q=. The input is moved into a div.suggest-wrap (position: relative, see
 * ndp.css) holding the listbox and a polite status. Without it the plain GET form still works. */
(function () {
  'use strict';
  var en = /^en\b/i.test(document.documentElement.lang);
  var T = en ? {
    count: function (n) { return n + ' suggestion' + (n === 1 ? '' : 's') + '. Use the up and down arrows to choose.'; },
    none: 'No suggestions', platform: 'Platform', document: 'Document', news: 'News', qa: 'Q&A'
  } : {
    count: function (n) { return n + ' gợi ý. Dùng mũi tên lên, xuống để chọn.'; },
    none: 'Không có gợi ý', platform: 'Nền tảng', document: 'Văn bản', news: 'Tin tức', qa: 'Hỏi đáp'
  };
  var SECTIONS = ['platform', 'document', 'news', 'qa'];
  var uid = 0;

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    e.className = cls;
    if (text) e.textContent = text;
    return e;
  }

  function valid(s) {
    return s && typeof s.label === 'string' && s.label && typeof s.url === 'string' &&
      /^\/(?![\/\\])/.test(s.url) && (s.hint == null || typeof s.hint === 'string');
  }

  function enhance(input) {
    var base = input.id || 'suggest-' + ++uid;
    var focused = document.activeElement === input;
    var a = input.selectionStart, b = input.selectionEnd;
    var wrap = el('div', 'suggest-wrap');
    input.parentNode.insertBefore(wrap, input);
    wrap.appendChild(input);
    if (focused) { input.focus(); input.setSelectionRange(a, b); }

    var list = el('ul', 'suggest__list');
    list.id = base + '-listbox';
    list.setAttribute('role', 'listbox');
    list.hidden = true;
    var label = input.labels && input.labels[0];
    if (label) {
      label.id = label.id || base + '-label';
      list.setAttribute('aria-labelledby', label.id);
    }
    var status = el('div', 'visually-hidden');
    status.setAttribute('role', 'status');
    status.setAttribute('aria-live', 'polite');
    wrap.appendChild(list);
    wrap.appendChild(status);
    input.setAttribute('role', 'combobox');
    input.setAttribute('aria-autocomplete', 'list');
    input.setAttribute('aria-expanded', 'false');
    input.setAttribute('aria-controls', list.id);
    input.setAttribute('autocomplete', 'off');

    var items = [], shownFor = null, active = -1, timer = 0, ctrl = null, seq = 0;

    function announce(msg) { // a trailing no-break space makes a repeated message new again
      status.textContent = status.textContent === msg ? msg + '\u00a0' : msg;
    }
    function setActive(i) {
      var o = list.children;
      if (o[active]) o[active].removeAttribute('aria-selected');
      active = i;
      if (o[i]) {
        o[i].setAttribute('aria-selected', 'true');
        input.setAttribute('aria-activedescendant', o[i].id);
        o[i].scrollIntoView({ block: 'nearest' });
      } else input.removeAttribute('aria-activedescendant');
    }
    function show(on) {
      if (!on) setActive(-1);
      list.hidden = !on;
      input.setAttribute('aria-expanded', String(on));
    }
    function reset() { items = []; shownFor = null; show(false); }
    function cancel() {
      clearTimeout(timer);
      seq++;
      if (ctrl) ctrl.abort();
      ctrl = null;
    }
    function query() { // at most 200 characters; '' when under 2
      // A trailing space stays: it tells the server that the last word is finished.
      var q = Array.from(input.value.replace(/^\s+/, '')).slice(0, 200);
      return q.join('').trim().length < 2 ? '' : q.join('');
    }
    function go(i) {
      cancel();
      show(false);
      window.location.assign(items[i].url);
    }
    function render(sugs, q) {
      items = sugs;
      shownFor = q;
      setActive(-1);
      list.textContent = '';
      sugs.forEach(function (s, i) {
        var li = el('li', 'suggest__option'), meta = el('span', 'suggest__meta');
        li.id = base + '-opt-' + i;
        li.setAttribute('role', 'option');
        li.appendChild(el('span', 'suggest__label', s.label));
        if (SECTIONS.indexOf(s.section) >= 0) meta.append(el('span', 'suggest__section', T[s.section]), ' ');
        if (s.hint) meta.appendChild(el('span', 'suggest__hint', s.hint));
        if (meta.firstChild) li.append(' ', meta); // spaces keep the option's accessible name readable
        li.addEventListener('click', function () { go(i); });
        list.appendChild(li);
      });
      show(sugs.length > 0);
      announce(sugs.length ? T.count(sugs.length) : T.none);
    }
    function load(q) {
      var my = ++seq;
      if (ctrl) ctrl.abort();
      ctrl = new AbortController();
      fetch('/search/suggest?q=' + encodeURIComponent(q), {
        headers: { Accept: 'application/json' }, credentials: 'same-origin', signal: ctrl.signal
      }).then(function (res) {
        if (!res.ok) throw new Error(res.status);
        return res.json();
      }).then(function (data) {
        if (my !== seq) return; // a newer query is under way: drop this answer
        ctrl = null;
        if (data.updating || !Array.isArray(data.suggestions)) reset();
        else render(data.suggestions.filter(valid).slice(0, 8), q);
      }).catch(function () {
        if (my === seq) { ctrl = null; reset(); }
      });
    }

    input.addEventListener('input', function () {
      cancel();
      var q = query();
      if (q) timer = setTimeout(load, 120, q);
      else reset();
    });
    input.addEventListener('keydown', function (e) {
      if (e.isComposing || e.ctrlKey || e.metaKey) return;
      var open = !list.hidden, len = items.length;
      switch (e.key) {
        case 'ArrowDown':
          if (!len || shownFor !== query()) return;
          e.preventDefault();
          if (open) setActive((active + 1) % len);
          else { show(true); if (!e.altKey) setActive(0); }
          break;
        case 'ArrowUp':
          if (!open) return;
          e.preventDefault();
          setActive(active > 0 ? active - 1 : len - 1);
          break;
        case 'Enter': // without a highlighted option the form submits as usual
          if (open && active >= 0) { e.preventDefault(); go(active); } else { cancel(); show(false); }
          break;
        case 'Escape': // preventDefault also stops Chromium clearing type=search on the first press
          if (open) { e.preventDefault(); show(false); }
          else if (input.value) { e.preventDefault(); cancel(); input.value = ''; reset(); }
          break;
        case 'Tab':
          show(false);
      }
    });
    list.addEventListener('mousedown', function (e) { e.preventDefault(); }); // keep focus in the input
    document.addEventListener('pointerdown', function (e) {
      if (!list.hidden && !wrap.contains(e.target)) show(false);
    });
    wrap.addEventListener('focusout', function (e) {
      if (e.relatedTarget && !wrap.contains(e.relatedTarget)) show(false);
    });
    if (input.form) input.form.addEventListener('submit', function () { cancel(); show(false); });
    window.addEventListener('pageshow', function (e) { if (e.persisted) { cancel(); show(false); } });
  }

  function init() {
    if (!window.fetch || !window.AbortController) return;
    document.querySelectorAll('input[data-suggest]').forEach(function (i) {
      if (i.getAttribute('role') !== 'combobox') enhance(i);
    });
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
