/* Notifying the agent of new customers: the chime, the mute toggle, the title badge. */

import { $ } from './dom.js';
import { KEYS, state } from './state.js';

const TITLE = 'Larkspur support console';

function muted() {
  return localStorage.getItem(KEYS.muted) === '1';
}

export function showMute() {
  $('mute').setAttribute('aria-pressed', String(muted()));
}

export function toggleMute() {
  localStorage.setItem(KEYS.muted, muted() ? '0' : '1');
  showMute();
  unlockAudio();
}

/** Browsers let audio start only after a gesture, so the context is made on the first one. */
export function unlockAudio() {
  const Context = window.AudioContext || window.webkitAudioContext;
  if (!Context) return;
  try {
    if (!state.audio) state.audio = new Context();
    if (state.audio.state === 'suspended') state.audio.resume().catch(() => {});
  } catch {
    state.audio = null; // no sound here; the title badge still tells
  }
}

/** Two short rising tones made on the spot: no audio file to fetch. */
export function chime() {
  if (muted()) return;
  unlockAudio();
  const audio = state.audio;
  if (!audio) return;
  const now = audio.currentTime;
  [
    [660, 0],
    [990, 0.14],
  ].forEach(([frequency, delay]) => {
    const tone = audio.createOscillator();
    const gain = audio.createGain();
    tone.type = 'sine';
    tone.frequency.value = frequency;
    gain.gain.setValueAtTime(0.0001, now + delay);
    gain.gain.exponentialRampToValueAtTime(0.25, now + delay + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, now + delay + 0.2);
    tone.connect(gain);
    gain.connect(audio.destination);
    tone.start(now + delay);
    tone.stop(now + delay + 0.22);
  });
}

export function updateTitle() {
  const waiting = new Set(state.queue.map((entry) => entry.id));
  for (const id of state.unseen) if (!waiting.has(id)) state.unseen.delete(id);
  const count = state.unseen.size;
  document.title = count ? `(${count}) ${TITLE}` : TITLE;
}

export function seen() {
  if (state.unseen.size && document.visibilityState === 'visible') {
    state.unseen.clear();
    updateTitle();
  }
}
