// Boss Raid's own script: countdowns to raid deadlines, a polite spoken reminder of the time
// left, the queue's "your turn" (a chime and a flash), a notice when a live update fails, and
// polling for the live panels while their event stream is refused (the server caps streams) or
// lost. Every page works without it; the server
// renders the time left as text. Words come from the page (data-* attributes), in its language.
(function () {
  'use strict';

  // The server's clock decides deadlines; correct ours by the time the page was rendered.
  var skew = 0;
  var serverTime = document.querySelector('meta[name="server-time"]');
  if (serverTime) {
    var t = Date.parse(serverTime.content);
    if (!isNaN(t)) skew = t - Date.now();
  }

  function format(ms) {
    var s = Math.max(0, Math.ceil(ms / 1000));
    var m = Math.floor(s / 60);
    s %= 60;
    return m + ':' + (s < 10 ? '0' : '') + s;
  }

  // Elements with data-deadline show the time left: a <progress> by its value (seconds), any
  // other element by its text. When a <time> reaches its deadline it fires a bubbling
  // "deadline" event, which htmx uses to fetch the raid as it now stands.
  function tick() {
    var now = Date.now() + skew;
    var els = document.querySelectorAll('[data-deadline]');
    for (var i = 0; i < els.length; i++) {
      var el = els[i];
      var deadline = Date.parse(el.getAttribute('data-deadline'));
      if (isNaN(deadline)) continue;
      var left = deadline - now;
      if (el.tagName === 'PROGRESS') {
        el.value = Math.max(0, left / 1000);
        continue;
      }
      if (el.hasAttribute('data-announce')) {
        announce(el, left);
        continue;
      }
      var text = format(left);
      if (el.textContent !== text) el.textContent = text;
      if (left <= 0 && !el.hasAttribute('data-expired')) {
        el.setAttribute('data-expired', '');
        el.dispatchEvent(new CustomEvent('deadline', { bubbles: true }));
      }
    }
  }

  // A live region says the time left at each whole minute and at 30 and 10 seconds — not at
  // every tick, which would drown a screen reader.
  var marks = [30, 10];
  function announce(el, left) {
    var s = Math.max(0, Math.ceil(left / 1000));
    var last = el.getAttribute('data-announced');
    if (last === null) {
      el.setAttribute('data-announced', String(s)); // the page already says the time left
      return;
    }
    var prev = Number(last);
    if (s >= prev) return;
    el.setAttribute('data-announced', String(s));
    var text = '';
    for (var m = prev - 1; m >= s; m--) {
      if (m > 0 && m % 60 === 0) {
        text = words(el, 'minutes', m / 60);
      } else if (marks.indexOf(m) >= 0) {
        text = words(el, 'seconds', m);
      }
      if (text) break;
    }
    if (text) el.textContent = text;
  }

  function words(el, unit, n) {
    var t = el.getAttribute('data-' + unit + (n === 1 ? '-one' : '-other')) || '';
    return t.replace('{n}', String(n));
  }

  function showError(message) {
    var box = document.getElementById('live-error');
    if (!box) return;
    box.textContent = message;
    box.hidden = false;
  }

  function hideError() {
    var box = document.getElementById('live-error');
    if (box) box.hidden = true;
  }

  // What a panel says, leaving out the countdown text tick() rewrites by itself.
  function panelKey(el) {
    var copy = el.cloneNode(true);
    var timers = copy.querySelectorAll('[data-deadline]');
    for (var i = 0; i < timers.length; i++) timers[i].textContent = '';
    return copy.innerHTML;
  }

  // While the stream is down, fetch the page itself every POLL_MS and swap in each live panel
  // (the elements with sse-swap and an id) that changed.
  var POLL_MS = 1000;
  var pollTimer = null;
  var polling = false;

  function poll(root) {
    if (polling) return;
    polling = true;
    fetch(window.location.href, { credentials: 'same-origin', cache: 'no-store', headers: { 'X-Live-Poll': '1' } })
      .then(function (resp) {
        if (!resp.ok) throw new Error('poll answered ' + resp.status);
        return resp.text();
      })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, 'text/html');
        var panels = root.querySelectorAll('[sse-swap][id]');
        for (var i = 0; i < panels.length; i++) {
          var fresh = doc.getElementById(panels[i].id);
          if (!fresh || panelKey(fresh) === panelKey(panels[i])) continue;
          panels[i].innerHTML = fresh.innerHTML;
          if (window.htmx) window.htmx.process(panels[i]);
        }
        root.setAttribute('data-live', 'polling');
        tick();
        tellTurn();
      })
      .catch(function () { /* the next poll tries again */ })
      .then(function () { polling = false; });
  }

  function startPolling(root) {
    if (pollTimer) return;
    poll(root);
    pollTimer = setInterval(function () { poll(root); }, POLL_MS);
  }

  function stopPolling(root) {
    if (!pollTimer) return;
    clearInterval(pollTimer);
    pollTimer = null;
    root.setAttribute('data-live', 'stream');
  }

  // When the queue's turn comes ([data-your-turn] appears, live or on load), say so: a short
  // chime where the browser lets a page play sound (after the player touched it), the panel
  // flashing, and the tab's title. Each turn (by its end) is told once.
  var toldTurn = '';
  var baseTitle = document.title;
  function chime() {
    var Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) return;
    try {
      var ac = new Ctx();
      var osc = ac.createOscillator();
      var gain = ac.createGain();
      osc.type = 'sine';
      osc.frequency.value = 880;
      gain.gain.setValueAtTime(0.0001, ac.currentTime);
      gain.gain.exponentialRampToValueAtTime(0.2, ac.currentTime + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, ac.currentTime + 0.5);
      osc.connect(gain);
      gain.connect(ac.destination);
      osc.start();
      osc.stop(ac.currentTime + 0.5);
      osc.onended = function () { ac.close(); };
    } catch (e) { /* no sound allowed: the flash and the title still tell */ }
  }
  function tellTurn() {
    var el = document.querySelector('[data-your-turn]');
    if (!el) {
      if (toldTurn) document.title = baseTitle;
      toldTurn = '';
      return;
    }
    var turn = el.getAttribute('data-your-turn');
    if (turn === toldTurn) return;
    toldTurn = turn;
    document.title = (el.getAttribute('data-turn-title') || '') + ' ' + baseTitle;
    el.classList.add('turn-flash');
    chime();
  }

  document.addEventListener('DOMContentLoaded', function () {
    tellTurn();
    document.body.addEventListener('htmx:afterSettle', tellTurn);
    // htmx's SSE extension retries a refused stream with a growing delay; until one opens,
    // the panels are polled.
    document.body.addEventListener('htmx:sseError', function (e) { startPolling(e.target); });
    document.body.addEventListener('htmx:sseOpen', function (e) { stopPolling(e.target); });
    // A stream starts with every panel as it stands, which the page already shows: swapping
    // an identical panel in would only take the focus (or a click) away from the player.
    document.body.addEventListener('htmx:sseBeforeMessage', function (e) {
      var fresh = document.createElement('div');
      fresh.innerHTML = (e.detail && e.detail.data) || '';
      if (panelKey(fresh) === panelKey(e.target)) e.preventDefault();
    });
    tick();
    setInterval(tick, 250);
    document.body.addEventListener('htmx:afterSwap', tick);
    document.body.addEventListener('htmx:afterRequest', function (e) {
      if (e.detail && e.detail.successful) hideError();
    });
    var box = document.getElementById('live-error');
    var say = function (name) { return (box && box.getAttribute(name)) || ''; };
    document.body.addEventListener('htmx:responseError', function () {
      showError(say('data-server-error'));
    });
    document.body.addEventListener('htmx:sendError', function () {
      showError(say('data-network-error'));
    });
  });
})();
