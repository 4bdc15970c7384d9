/**
 * The page's only script: plays an excerpt's notes (embedded as JSON in the page) with the WebAudio
 * API, so excerpts can be heard offline without a MIDI plug-in. A triangle oscillator per note with
 * a short attack and a piano-like decay is crude, but it is enough to hear the texture; the MIDI
 * links give the real thing. Written as plain ES2017 so any current browser runs it as is.
 */
export const PLAYER_SCRIPT = String.raw`
(function () {
  'use strict';
  var source = document.getElementById('cl-notes');
  var notes = source ? JSON.parse(source.textContent) : {};
  var ctx = null;
  var current = null;

  function freq(p) { return 440 * Math.pow(2, (p - 69) / 12); }

  function stop() {
    if (!current) return;
    var c = current;
    current = null;
    c.oscillators.forEach(function (o) { try { o.stop(); } catch (e) { /* already stopped */ } });
    c.master.disconnect();
    cancelAnimationFrame(c.frame);
    clearTimeout(c.timer);
    c.button.textContent = '▶ Play';
    c.button.setAttribute('aria-pressed', 'false');
    c.playheads.forEach(function (l) { l.setAttribute('visibility', 'hidden'); });
  }

  function play(button) {
    var id = button.getAttribute('data-excerpt');
    var wasPlaying = current && current.button === button;
    stop();
    if (wasPlaying || !notes[id]) return;
    var Ctor = window.AudioContext || window.webkitAudioContext;
    if (!Ctor) { button.textContent = 'no audio in this browser'; return; }
    ctx = ctx || new Ctor();
    if (ctx.state === 'suspended') ctx.resume();
    var master = ctx.createGain();
    master.gain.value = 0.18;
    var limiter = ctx.createDynamicsCompressor();
    master.connect(limiter);
    limiter.connect(ctx.destination);
    var t0 = ctx.currentTime + 0.05;
    var end = 0;
    var oscillators = notes[id].map(function (n) {
      var on = t0 + n[1], off = t0 + Math.max(n[2], n[1] + 0.05), peak = 0.15 + 0.6 * n[3] / 127;
      var osc = ctx.createOscillator();
      var env = ctx.createGain();
      osc.type = 'triangle';
      osc.frequency.value = freq(n[0]);
      env.gain.setValueAtTime(0, on);
      env.gain.linearRampToValueAtTime(peak, on + 0.008);
      env.gain.setTargetAtTime(peak * 0.25, on + 0.008, 0.35);
      env.gain.setTargetAtTime(0, off, 0.06);
      osc.connect(env);
      env.connect(master);
      osc.start(on);
      osc.stop(off + 0.4);
      end = Math.max(end, n[2]);
      return osc;
    });
    var playheads = Array.prototype.slice.call(document.querySelectorAll('svg.roll[data-excerpt="' + id + '"] .playhead'));
    current = { button: button, oscillators: oscillators, master: master, playheads: playheads, frame: 0, timer: 0 };
    var c = current;
    c.timer = setTimeout(function () { if (current === c) stop(); }, (end + 0.6) * 1000);
    button.textContent = '■ Stop';
    button.setAttribute('aria-pressed', 'true');
    (function tick() {
      if (current !== c) return;
      var t = ctx.currentTime - t0;
      playheads.forEach(function (line) {
        var svg = line.ownerSVGElement;
        var x0 = +svg.getAttribute('data-x0'), w = +svg.getAttribute('data-w'), d = +svg.getAttribute('data-duration');
        var x = x0 + Math.max(0, Math.min(1, t / d)) * w;
        line.setAttribute('x1', x);
        line.setAttribute('x2', x);
        line.setAttribute('visibility', t >= 0 ? 'visible' : 'hidden');
      });
      c.frame = requestAnimationFrame(tick);
    })();
  }

  document.addEventListener('click', function (event) {
    var button = event.target.closest && event.target.closest('button.play[data-excerpt]');
    if (button) play(button);
  });
})();
`;
