'use strict';
// Test support (no tests here): hex digits from a fixed generator, the same on every run.

/** `hex(n)`: n lowercase hex digits, from a generator seeded with `seed`. */
function hexDigits(seed) {
  const next = () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return (n) => Array.from({ length: n }, () => '0123456789abcdef'[Math.floor(next() * 16)]).join('');
}

module.exports = { hexDigits };
