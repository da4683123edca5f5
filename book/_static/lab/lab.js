/*
 * infomech propagation lab: x <- act(corr(x / std(x), k)) in the browser, float64, offline.
 *
 * One file, no dependencies. The numerical functions mirror the library's (same names, same
 * conventions) so that the browser test (tests/browser/test_lab.py) can compare the centre of mass
 * with infomech.propagation.propagate to 1e-9 relative:
 *
 *   infomech.dct            dctMatrix, idct2, namedBasis
 *   infomech.kernels        dctBeta, shiftKernel, translationBeta, steeredGradient, alternating2x2
 *   infomech.decomposition  evenOdd (point split), symAnti (square split), energy, beta2
 *   infomech.patterns       delta, disc, the natural image (shipped as lab-natural.js)
 *   infomech.propagation    Propagation: cross-correlation (torch conv2d convention), zero padding,
 *                           the growing light-cone window, the optional full-image std rescale
 *   infomech.observables    moments: mass and centre of mass weighted by |x|, origin at the image
 *                           centre, x to the right (columns), y downwards (rows)
 *
 * Kernels are Float64Array(n*n), row-major: k[a*n + b] is row a, column b. Images likewise.
 * Cross-correlation: y(p) = sum_d k(d) x(p + d), d = (row, col) offset from the kernel centre.
 *
 * Data files set globals (so the page works from file:// too, where fetch() is refused):
 *   window.INFOMECH_LAB_CURVES   measured speed-law curves (lab-curves.js, written at build time)
 *   window.INFOMECH_LAB_NATURAL  the natural image, float64 little-endian in base64 (lab-natural.js,
 *                                loaded on first use)
 */
(function () {
  "use strict";

  const LAB_SIZE = 201;          // infomech.lab.LAB_SIZE
  const LEAKY_SLOPE = 0.1;       // infomech.lab.LEAKY_SLOPE
  const MAX_STEPS = 200;
  const SCRIPT_BASE = (function () {
    const src = document.currentScript && document.currentScript.src;
    return src ? src.slice(0, src.lastIndexOf("/") + 1) : "";
  })();

  // ------------------------------------------------------------------ kernels (infomech.dct)

  /** Orthonormal 1-D DCT-II matrix C[u*n + x] = alpha_u cos(pi (2x+1) u / 2n). */
  function dctMatrix(n) {
    const c = new Float64Array(n * n);
    for (let u = 0; u < n; u++) {
      for (let x = 0; x < n; x++) {
        c[u * n + x] = u === 0 ? Math.sqrt(1 / n)
          : Math.cos(Math.PI * (2 * x + 1) * u / (2 * n)) * Math.sqrt(2 / n);
      }
    }
    return c;
  }

  /** Inverse 2-D DCT k = C^T T C (as numpy's c.T @ t @ c: inner sums in index order). */
  function idct2(t, n) {
    const c = dctMatrix(n);
    const m = new Float64Array(n * n);  // m = C^T T
    for (let y = 0; y < n; y++) {
      for (let v = 0; v < n; v++) {
        let s = 0;
        for (let u = 0; u < n; u++) s += c[u * n + y] * t[u * n + v];
        m[y * n + v] = s;
      }
    }
    const k = new Float64Array(n * n);  // k = m C
    for (let y = 0; y < n; y++) {
      for (let x = 0; x < n; x++) {
        let s = 0;
        for (let v = 0; v < n; v++) s += m[y * n + v] * c[v * n + x];
        k[y * n + x] = s;
      }
    }
    return k;
  }

  /** Basis image B_uv(y, x) = C[u, y] C[v, x]: "Sigma" (0,0), "nabla_x" (0,1), "nabla_y" (1,0). */
  function namedBasis(name, n) {
    const uv = { Sigma: [0, 0], nabla_x: [0, 1], nabla_y: [1, 0] }[name];
    const c = dctMatrix(n);
    const k = new Float64Array(n * n);
    for (let y = 0; y < n; y++) {
      for (let x = 0; x < n; x++) k[y * n + x] = c[uv[0] * n + y] * c[uv[1] * n + x];
    }
    return k;
  }

  // ------------------------------------------------------------------ kernels (infomech.kernels)

  /** DCT-beta kernel: IDCT of T with T00 = sqrt(1 - beta2), T01 = sqrt(beta2); |k| < 1e-14 -> 0. */
  function dctBeta(beta2, n) {
    const t = new Float64Array(n * n);
    t[0] = Math.sqrt(1 - beta2);
    t[1] = Math.sqrt(beta2);
    const k = idct2(t, n);
    for (let i = 0; i < k.length; i++) if (Math.abs(k[i]) < 1e-14) k[i] = 0;
    return k;
  }

  /** Pure one-step translation towards +x: a single 1 at the left edge centre (odd n). */
  function shiftKernel(n) {
    const k = new Float64Array(n * n);
    k[((n - 1) / 2) * n] = 1;
    return k;
  }

  /** Translation-beta kernel sqrt(beta2) anti/|anti| + sqrt(1 - beta2) sym/|sym| of the shift. */
  function translationBeta(beta2, n) {
    const [s, a] = symAnti(shiftKernel(n), n);
    const ns = Math.sqrt(energy(s)), na = Math.sqrt(energy(a));
    const k = new Float64Array(n * n);
    for (let i = 0; i < k.length; i++) {
      k[i] = Math.sqrt(beta2) * (a[i] / na) + Math.sqrt(1 - beta2) * (s[i] / ns);
    }
    return k;
  }

  /** Steered gradient cos(theta) nabla_x + sin(theta) nabla_y (pure odd, unit norm). */
  function steeredGradient(theta, n) {
    const gx = namedBasis("nabla_x", n), gy = namedBasis("nabla_y", n);
    const k = new Float64Array(n * n);
    for (let i = 0; i < k.length; i++) k[i] = Math.cos(theta) * gx[i] + Math.sin(theta) * gy[i];
    return k;
  }

  /** The lab's steered family: sqrt(1 - beta2) Sigma + sqrt(beta2) steeredGradient(theta). */
  function steeredBeta(beta2, theta, n) {
    const dc = namedBasis("Sigma", n), g = steeredGradient(theta, n);
    const k = new Float64Array(n * n);
    for (let i = 0; i < k.length; i++) k[i] = Math.sqrt(1 - beta2) * dc[i] + Math.sqrt(beta2) * g[i];
    return k;
  }

  /** i.i.d. N(0, 1) kernel from a seed (mulberry32 + Box-Muller; not numpy's generator). */
  function randomKernel(n, seed) {
    let s = (seed >>> 0) + 0x6D2B79F5;
    function uniform() {  // mulberry32, in [0, 1)
      s = (s + 0x6D2B79F5) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 15), z | 1);
      z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
      return ((z ^ (z >>> 14)) >>> 0) / 4294967296;
    }
    const k = new Float64Array(n * n);
    for (let i = 0; i < k.length; i++) {
      const u1 = 1 - uniform(), u2 = uniform();
      k[i] = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    }
    return k;
  }

  /** Parse a user-typed n x n kernel (rows on lines or separated by ';', numbers by spaces or ','). */
  function parseKernel(text, n) {
    const rows = String(text).split(/[\n;]+/).map(r => r.trim()).filter(r => r.length > 0);
    if (rows.length !== n) {
      throw new Error(`a ${n}x${n} kernel needs ${n} rows; got ${rows.length}`);
    }
    const k = new Float64Array(n * n);
    rows.forEach((row, i) => {
      const cells = row.split(/[\s,]+/).filter(c => c.length > 0);
      if (cells.length !== n) {
        throw new Error(`row ${i + 1} has ${cells.length} numbers; a ${n}x${n} kernel needs ${n}`);
      }
      cells.forEach((cell, j) => {
        const v = Number(cell);
        if (!Number.isFinite(v)) throw new Error(`row ${i + 1}: "${cell}" is not a finite number`);
        k[i * n + j] = v;
      });
    });
    if (k.every(v => v === 0)) throw new Error("the kernel is all zeros: it erases the image");
    return k;
  }

  /** Place an m x m kernel into a zero size x size grid at (row, col) (infomech.kernels.embed). */
  function embed(k, m, size, row, col) {
    const out = new Float64Array(size * size);
    for (let a = 0; a < m; a++) for (let b = 0; b < m; b++) out[(row + a) * size + col + b] = k[a * m + b];
    return out;
  }

  /** The 2x2 placement: in 3x3, top-left on even steps, bottom-right on odd steps. */
  function alternating2x2(k) {
    return [embed(k, 2, 3, 0, 0), embed(k, 2, 3, 1, 1)];
  }

  /** Kernel schedule (phases cycled over steps), each phase odd-sized: {n, phases}. */
  function labSchedule(k, n) {
    return n === 2 ? { n: 3, phases: alternating2x2(k) } : { n: n, phases: [k] };
  }

  /** Speed limit c = (n - 1) / 2 px/step (infomech.kernels.kernel_radius). */
  function kernelRadius(n) { return (n - 1) / 2; }

  // ------------------------------------------------------------ splits (infomech.decomposition)

  /** Point-reflection split k = k_e + k_o, k_e = (k + Rk)/2, R the 180 degree rotation. */
  function evenOdd(k, n) {
    const e = new Float64Array(n * n), o = new Float64Array(n * n);
    for (let i = 0; i < n * n; i++) {
      const r = k[n * n - 1 - i];
      e[i] = (k[i] + r) / 2;
      o[i] = (k[i] - r) / 2;
    }
    return [e, o];
  }

  /** Square-symmetry split k = k_s + k_a, k_s the average over the 8 symmetries of the square. */
  function symAnti(k, n) {
    const s = new Float64Array(n * n), a = new Float64Array(n * n);
    const q = n - 1;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        const orbit = k[i * n + j] + k[j * n + i] + k[i * n + q - j] + k[(q - j) * n + i]
          + k[(q - i) * n + j] + k[j * n + q - i] + k[(q - i) * n + q - j] + k[(q - j) * n + q - i];
        s[i * n + j] = orbit / 8;
        a[i * n + j] = k[i * n + j] - s[i * n + j];
      }
    }
    return [s, a];
  }

  function split(k, n, kind) { return kind === "square" ? symAnti(k, n) : evenOdd(k, n); }

  /** Energy |k|^2. */
  function energy(k) { let s = 0; for (const v of k) s += v * v; return s; }

  /** Odd energy share beta^2 = |k_o|^2 / |k|^2 under a split ("point" or "square"). */
  function beta2(k, n, kind) { return energy(split(k, n, kind)[1]) / energy(k); }

  // ------------------------------------------------------------------ patterns (infomech.patterns)

  /** Zeros with a single 1 at the centre. */
  function delta(size) {
    const x = new Float64Array(size * size);
    x[((size - 1) / 2) * size + (size - 1) / 2] = 1;
    return x;
  }

  /** Filled disc of value 255, radius min(19, max(1, (size - 1) // 4)) (patterns.make("disc")). */
  function disc(size) {
    const radius = Math.min(19, Math.max(1, Math.floor((size - 1) / 4)));
    const c = (size - 1) / 2, x = new Float64Array(size * size);
    for (let i = 0; i < size; i++) {
      for (let j = 0; j < size; j++) {
        if ((j - c) ** 2 + (i - c) ** 2 <= radius * radius) x[i * size + j] = 255;
      }
    }
    return x;
  }

  /** The natural image decoded bit for bit from window.INFOMECH_LAB_NATURAL (float64 LE). */
  function naturalImage() {
    const d = window.INFOMECH_LAB_NATURAL;
    const bin = atob(d.float64le_base64);
    const view = new DataView(new ArrayBuffer(bin.length));
    for (let i = 0; i < bin.length; i++) view.setUint8(i, bin.charCodeAt(i));
    const x = new Float64Array(d.height * d.width);
    for (let i = 0; i < x.length; i++) x[i] = view.getFloat64(8 * i, true);
    return x;
  }

  let naturalLoading = null;
  /** Load lab-natural.js once (a script tag: works from file:// as well as over http). */
  function loadNatural() {
    if (window.INFOMECH_LAB_NATURAL) return Promise.resolve();
    if (!naturalLoading) {
      naturalLoading = new Promise((resolve, reject) => {
        const s = document.createElement("script");
        s.src = SCRIPT_BASE + "lab-natural.js";
        s.onload = () => window.INFOMECH_LAB_NATURAL ? resolve() : reject(new Error("no image data"));
        s.onerror = () => { naturalLoading = null; reject(new Error("lab-natural.js did not load")); };
        document.head.appendChild(s);
      });
    }
    return naturalLoading;
  }

  // ---------------------------------------------------------- activations (infomech.propagation)

  const ACTIVATIONS = {
    relu: v => (v > 0 ? v : 0),
    none: v => v,
    abs: v => Math.abs(v),
    leaky: v => (v > 0 ? v : v * LEAKY_SLOPE),  // torch.nn.functional.leaky_relu(x, 0.1)
  };

  // ------------------------------------------------- propagation (infomech.propagation.propagate)

  /**
   * Run x <- act(corr(x~, k_t)), x~ = x / std(x) when rescale is set, one step at a time.
   *
   * Light cone (exact, as the library's): a kernel of radius r moves nothing farther than r px
   * per step, so step t only computes the initial support grown by r*(t+1), clipped to the image;
   * outside it the state is zero. All four activations map 0 to 0. The rescale uses full-image
   * statistics (the zeros outside the window included): std = sqrt(max(0, s2/N - (s1/N)^2)).
   */
  class Propagation {
    constructor(x0, height, width, schedule, activation, rescale) {
      this.H = height; this.W = width;
      this.schedule = schedule;  // {n, phases}
      this.r = (schedule.n - 1) / 2;
      this.act = ACTIVATIONS[activation];
      this.rescale = rescale;
      this.cur = Float64Array.from(x0);
      this.nxt = new Float64Array(height * width);
      this.support = supportBox(x0, height, width);
      this.t = 0;
      this.box = this.coneBox(0);
      this.track = { x: [], y: [], mass: [] };
      this.record();
    }

    /** Rows y0:y1, columns x0:x1 of the window at step t (initial support grown by r*t). */
    coneBox(t) {
      const s = this.support, m = this.r * t;
      return { y0: Math.max(0, s.y0 - m), y1: Math.min(this.H, s.y1 + m),
               x0: Math.max(0, s.x0 - m), x1: Math.min(this.W, s.x1 + m) };
    }

    /** One step: rescale, correlate (zero padding) into the grown window, activate. */
    step() {
      const W = this.W, r = this.r, n = this.schedule.n;
      const b = this.box, nb = this.coneBox(this.t + 1);
      const cur = this.cur, out = this.nxt;
      if (this.rescale) {
        let s1 = 0, s2 = 0;
        for (let y = b.y0; y < b.y1; y++) {
          for (let x = b.x0, i = y * W + b.x0; x < b.x1; x++, i++) { s1 += cur[i]; s2 += cur[i] * cur[i]; }
        }
        const N = this.H * this.W;
        const std = Math.sqrt(Math.max(0, s2 / N - (s1 / N) * (s1 / N)));
        if (std > 0) {
          for (let y = b.y0; y < b.y1; y++) {
            for (let x = b.x0, i = y * W + b.x0; x < b.x1; x++, i++) cur[i] /= std;
          }
        }
      }
      for (let y = nb.y0; y < nb.y1; y++) out.fill(0, y * W + nb.x0, y * W + nb.x1);
      // cross-correlation as n*n shifted multiply-adds, taps in row-major order (as the library):
      // out(y, x) += k[a, c] * cur(y + a - r, x + c - r); input outside the window is zero.
      const k = this.schedule.phases[this.t % this.schedule.phases.length];
      for (let a = 0; a < n; a++) {
        const ylo = Math.max(nb.y0, b.y0 - a + r), yhi = Math.min(nb.y1, b.y1 - a + r);
        for (let c = 0; c < n; c++) {
          const w = k[a * n + c];
          if (w === 0) continue;  // adds exact zeros only
          const xlo = Math.max(nb.x0, b.x0 - c + r), xhi = Math.min(nb.x1, b.x1 - c + r);
          const shift = (a - r) * W + (c - r);
          for (let y = ylo; y < yhi; y++) {
            for (let i = y * W + xlo, end = y * W + xhi; i < end; i++) out[i] += w * cur[i + shift];
          }
        }
      }
      const act = this.act;
      for (let y = nb.y0; y < nb.y1; y++) {
        for (let i = y * W + nb.x0, end = y * W + nb.x1; i < end; i++) out[i] = act(out[i]);
      }
      // the old state buffer becomes the next output: clear its window (the new box contains it)
      for (let y = b.y0; y < b.y1; y++) cur.fill(0, y * W + b.x0, y * W + b.x1);
      this.cur = out; this.nxt = cur;
      this.box = nb;
      this.t += 1;
      this.record();
    }

    /** Append mass and centre of mass (weights |x|) of the current state to the track. */
    record() {
      const m = moments(this.cur, this.H, this.W, this.box);
      this.track.x.push(m.x); this.track.y.push(m.y); this.track.mass.push(m.mass);
    }

    /** Has the light cone reached the image border (zero padding of the border acting)? */
    reachedBorder(t) {
      const s = this.support;
      return Math.min(s.y0, s.x0, this.H - s.y1, this.W - s.x1) < this.r * t;
    }
  }

  /** Bounding box of the non-zero pixels. */
  function supportBox(x, H, W) {
    let y0 = H, y1 = 0, x0 = W, x1 = 0;
    for (let y = 0; y < H; y++) {
      for (let j = 0; j < W; j++) {
        if (x[y * W + j] !== 0) {
          if (y < y0) y0 = y;
          if (y + 1 > y1) y1 = y + 1;
          if (j < x0) x0 = j;
          if (j + 1 > x1) x1 = j + 1;
        }
      }
    }
    if (y1 === 0) throw new Error("the pattern has zero mass");
    return { y0, y1, x0, x1 };
  }

  /**
   * Mass M = sum |x| and centre mu = (1/M) sum |x| p over a window, p from the image centre
   * ((W-1)/2, (H-1)/2), from the column and row marginals (infomech.observables.moments).
   * NaN centre where the mass is zero.
   */
  function moments(x, H, W, box) {
    const cx = (W - 1) / 2, cy = (H - 1) / 2;
    const mx = new Float64Array(box.x1 - box.x0);
    let sy = 0, mass = 0;
    for (let y = box.y0; y < box.y1; y++) {
      let row = 0;
      for (let j = box.x0, i = y * W + box.x0; j < box.x1; j++, i++) {
        const w = Math.abs(x[i]);
        row += w;
        mx[j - box.x0] += w;
      }
      sy += row * (y - cy);
      mass += row;
    }
    let sx = 0;
    for (let j = box.x0; j < box.x1; j++) sx += mx[j - box.x0] * (j - cx);
    if (mass === 0) return { mass: 0, x: NaN, y: NaN };
    return { mass, x: sx / mass, y: sy / mass };
  }

  // ------------------------------------------------------------------ colour maps

  const VIRIDIS = [[68, 1, 84], [71, 44, 122], [59, 81, 139], [44, 113, 142], [33, 144, 141],
    [39, 173, 129], [92, 200, 99], [170, 220, 50], [253, 231, 37]];
  const DIVERGING = [[33, 102, 172], [103, 169, 207], [247, 247, 247], [239, 138, 98], [178, 24, 43]];

  function lut(stops) {
    const out = new Uint8ClampedArray(256 * 3);
    for (let i = 0; i < 256; i++) {
      const f = i / 255 * (stops.length - 1), j = Math.min(stops.length - 2, Math.floor(f)), u = f - j;
      for (let c = 0; c < 3; c++) out[3 * i + c] = Math.round(stops[j][c] * (1 - u) + stops[j + 1][c] * u);
    }
    return out;
  }
  const LUTS = { sequential: lut(VIRIDIS), diverging: lut(DIVERGING) };

  function cssColour(map, f) {
    const l = LUTS[map], i = 3 * Math.max(0, Math.min(255, Math.round(f * 255)));
    return `rgb(${l[i]}, ${l[i + 1]}, ${l[i + 2]})`;
  }

  // ------------------------------------------------------------------ small DOM helpers

  let uid = 0;
  function el(tag, attrs, children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "text") e.textContent = v;
      else if (k === "className") e.className = v;
      else e.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of children || []) e.append(c);
    return e;
  }
  const SVG_NS = "http://www.w3.org/2000/svg";
  function svg(tag, attrs) {
    const e = document.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
    return e;
  }
  function fmt(v, d) {
    if (!Number.isFinite(v)) return "n/a";
    const s = v.toFixed(d);
    return /^-0\.?0*$/.test(s) ? s.slice(1) : s;
  }

  const PRESETS = {
    lab: { family: "dct", size: 3, beta2: 0.5, theta: 0, seed: 1, activation: "relu", pattern: "delta",
           steps: 50, split: "point", rescale: true, view: "cone", rate: 60 },
    "speed-law": { family: "dct", size: 3, beta2: 0.5, activation: "relu", pattern: "delta", steps: 50 },
    "odd-displacement": { family: "steered", size: 3, beta2: 0.4, theta: 45, activation: "relu",
                          pattern: "disc", steps: 60 },
  };

  const FAMILY_LABELS = { dct: "DCT-beta", translation: "translation-beta", steered: "steered gradient",
                          random: "random (seeded)", user: "user kernel" };

  // ------------------------------------------------------------------ the panel

  class Lab {
    constructor(root) {
      this.root = root;
      this.id = `iml${++uid}`;
      const preset = PRESETS[root.dataset.preset] ? root.dataset.preset : "lab";
      this.settings = Object.assign({}, PRESETS.lab, PRESETS[preset]);
      for (const key of Object.keys(PRESETS.lab)) {  // directive options override the preset
        const v = root.dataset[key];
        if (v === undefined) continue;
        this.settings[key] = typeof PRESETS.lab[key] === "number" ? Number(v)
          : typeof PRESETS.lab[key] === "boolean" ? v === "true" : v;
      }
      this.playing = false;
      this.lastPlay = null;
      this.error = null;
      this.buildUI();
      this.writeControls();
      this.rebuild();
    }

    // ---------------------------------------------------------------- UI construction

    field(label, control, opts) {
      const id = control.id;
      const wrap = el("div", { className: "iml-field" + (opts && opts.wide ? " iml-wide" : "") },
        [el("label", { for: id, text: label }), control]);
      if (opts && opts.extra) wrap.append(opts.extra);
      return wrap;
    }

    select(name, options) {
      const s = el("select", { id: `${this.id}-${name}`, name });
      for (const [value, text] of options) s.append(el("option", { value, text }));
      return s;
    }

    number(name, min, max, step) {
      return el("input", { id: `${this.id}-${name}`, name, type: "number", min, max, step,
                           inputmode: "decimal" });
    }

    range(name, min, max, step, label) {
      return el("input", { id: `${this.id}-${name}-range`, name: `${name}-range`, type: "range", min, max,
                           step, "aria-label": label });
    }

    buildUI() {
      const root = this.root;
      root.textContent = "";
      root.classList.add("iml");
      root.setAttribute("role", "region");
      root.setAttribute("aria-label", "Propagation lab");
      const c = {};
      c.family = this.select("family", Object.entries(FAMILY_LABELS));
      c.size = this.select("size", [["2", "2x2 (alternating placement)"], ["3", "3x3"], ["5", "5x5"]]);
      c.beta2 = this.number("beta2", 0, 1, 0.01);
      c.beta2Range = this.range("beta2", 0, 1, 0.01, "β² slider");
      c.theta = this.number("theta", -180, 180, 1);
      c.thetaRange = this.range("theta", -180, 180, 1, "θ slider (degrees)");
      c.seed = this.number("seed", 0, 4294967295, 1);
      c.user = el("textarea", { id: `${this.id}-user`, name: "user", rows: 5, spellcheck: "false",
                                "aria-describedby": `${this.id}-user-help` });
      c.apply = el("button", { type: "button", className: "iml-button", text: "Apply kernel" });
      c.activation = this.select("activation", [["relu", "ReLU"], ["none", "none (identity)"],
        ["abs", "absolute value"], ["leaky", `leaky ReLU (slope ${LEAKY_SLOPE})`]]);
      c.rescale = el("input", { id: `${this.id}-rescale`, name: "rescale", type: "checkbox" });
      c.pattern = this.select("pattern", [["delta", "single pixel"], ["disc", "disc (radius 19, value 255)"],
        ["natural", "natural image (photograph)"]]);
      c.steps = this.number("steps", 1, MAX_STEPS, 1);
      c.stepsRange = this.range("steps", 1, MAX_STEPS, 1, "steps slider");
      c.split = this.select("split", [["point", "point reflection (even / odd)"],
        ["square", "square symmetry (sym / anti)"]]);
      c.view = this.select("view", [["cone", "follow the light cone"], ["full", "whole image"]]);
      c.rate = this.select("rate", [["10", "10 steps/s"], ["30", "30 steps/s"], ["60", "60 steps/s"],
        ["120", "120 steps/s"]]);
      // the label says what a press does (Play / Pause); no aria-pressed, since the label changes
      c.play = el("button", { type: "button", className: "iml-button iml-primary", text: "Play" });
      c.step = el("button", { type: "button", className: "iml-button", text: "Step" });
      c.reset = el("button", { type: "button", className: "iml-button", text: "Reset" });
      this.c = c;

      const pair = (a, b) => el("div", { className: "iml-pair" }, [a, b]);
      this.rows = {
        beta2: this.field("β² (odd energy share)", c.beta2, { extra: c.beta2Range }),
        theta: this.field("θ (degrees, from +x towards +y)", c.theta, { extra: c.thetaRange }),
        seed: this.field("Random seed", c.seed),
        user: this.field(`Kernel (rows on lines)`, c.user, { wide: true, extra: el("div", {}, [
          el("p", { id: `${this.id}-user-help`, className: "iml-help",
                    text: "n rows of n numbers, cross-correlation: weight on the left column moves content right." }),
          c.apply]) }),
      };
      const controls = el("div", { className: "iml-controls", role: "group",
                                   "aria-label": "Lab settings" }, [
        this.field("Kernel family", c.family),
        this.field("Kernel size", c.size),
        this.rows.beta2, this.rows.theta, this.rows.seed, this.rows.user,
        this.field("Activation", c.activation),
        el("div", { className: "iml-field iml-check" }, [c.rescale,
          el("label", { for: c.rescale.id, text: "rescale x ← x / std(x) before each step" })]),
        this.field("Pattern", c.pattern),
        this.field("Steps (1 to 200)", c.steps, { extra: c.stepsRange }),
        this.field("Even / odd split shown", c.split),
        this.field("View", c.view),
        this.field("Play speed", c.rate),
      ]);
      const buttons = el("div", { className: "iml-buttons", role: "group", "aria-label": "Run controls" },
        [c.play, c.step, c.reset]);

      // display: image + colour bar, speed-law plot, kernel parts, readout
      this.canvas = el("canvas", { className: "iml-canvas", width: 402, height: 402, role: "img",
                                   "aria-label": "state of the image" });
      this.colourbar = el("canvas", { className: "iml-colourbar", width: 256, height: 10,
                                      "aria-hidden": "true" });
      this.scale = el("div", { className: "iml-scale", "aria-hidden": "true" });
      this.imageCaption = el("figcaption", { className: "iml-caption" });
      const imageFig = el("figure", { className: "iml-figure" }, [
        this.canvas, this.colourbar, this.scale, this.imageCaption]);
      this.plot = svg("svg", { viewBox: "0 0 320 270", class: "iml-plot", role: "img" });
      this.plotTitle = svg("title", {});
      this.plot.append(this.plotTitle);
      this.plotCaption = el("figcaption", { className: "iml-caption" });
      const plotFig = el("figure", { className: "iml-figure" }, [this.plot, this.plotCaption]);
      this.kernels = el("div", { className: "iml-kernels" });
      this.readout = el("output", { className: "iml-readout", for: `${this.id}-steps` });
      this.status = el("p", { className: "iml-status", role: "status", "aria-live": "polite" });
      const display = el("div", { className: "iml-display" }, [imageFig, plotFig]);
      root.append(controls, buttons, this.readout, this.status, display, this.kernels);
      this.offscreen = document.createElement("canvas");
      this.offscreen.width = LAB_SIZE; this.offscreen.height = LAB_SIZE;
      this.pixels = this.offscreen.getContext("2d").createImageData(LAB_SIZE, LAB_SIZE);

      // events: any setting change rebuilds the kernel and restarts the run
      const rebuild = () => { this.readControls(); this.rebuild(); };
      for (const name of ["family", "size", "activation", "pattern", "split", "view"]) {
        c[name].addEventListener("change", rebuild);
      }
      c.rescale.addEventListener("change", rebuild);
      c.rate.addEventListener("change", () => { this.readControls(); });
      const link = (num, rng, apply) => {
        rng.addEventListener("input", () => { num.value = rng.value; apply(); });
        num.addEventListener("change", () => { rng.value = num.value; apply(); });
      };
      link(c.beta2, c.beta2Range, rebuild);
      link(c.theta, c.thetaRange, rebuild);
      link(c.steps, c.stepsRange, () => { this.readControls(); this.render(); });
      c.seed.addEventListener("change", rebuild);
      c.apply.addEventListener("click", rebuild);
      c.user.addEventListener("keydown", e => {  // Ctrl/Cmd+Enter applies the typed kernel
        if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); rebuild(); }
      });
      c.play.addEventListener("click", () => (this.playing ? this.pause() : this.play()));
      c.step.addEventListener("click", () => { this.pause(); this.stepOnce(); this.render(); });
      c.reset.addEventListener("click", () => { this.pause(); this.rebuild(); });
    }

    /** Copy this.settings into the controls. */
    writeControls() {
      const s = this.settings, c = this.c;
      c.family.value = s.family; c.size.value = String(s.size);
      c.beta2.value = c.beta2Range.value = String(s.beta2);
      c.theta.value = c.thetaRange.value = String(s.theta);
      c.seed.value = String(s.seed);
      c.activation.value = s.activation; c.rescale.checked = !!s.rescale;
      c.pattern.value = s.pattern; c.steps.value = c.stepsRange.value = String(s.steps);
      c.split.value = s.split; c.view.value = s.view; c.rate.value = String(s.rate);
      if (!c.user.value) c.user.value = kernelText(dctBeta(0.5, s.size), s.size);
    }

    /** Read the controls into this.settings (clamping numbers into their ranges). */
    readControls() {
      const c = this.c, s = this.settings;
      const num = (input, lo, hi, dflt) => {
        const v = Number(input.value);
        const out = Number.isFinite(v) && input.value !== "" ? Math.min(hi, Math.max(lo, v)) : dflt;
        return out;
      };
      const oldSize = s.size, oldFamily = s.family;
      s.family = c.family.value;
      s.size = Number(c.size.value);
      s.beta2 = num(c.beta2, 0, 1, s.beta2);
      s.theta = num(c.theta, -180, 180, s.theta);
      s.seed = Math.round(num(c.seed, 0, 4294967295, s.seed));
      s.activation = c.activation.value;
      s.rescale = c.rescale.checked;
      s.pattern = c.pattern.value;
      s.steps = Math.round(num(c.steps, 1, MAX_STEPS, s.steps));
      s.split = c.split.value;
      s.view = c.view.value;
      s.rate = Number(c.rate.value);
      if (s.family === "user" && oldFamily !== "user" && this.k && this.n === s.size) {
        c.user.value = kernelText(this.k, s.size);  // start from the kernel shown until now
      } else if (s.family === "user" && s.size !== oldSize) {
        c.user.value = kernelText(dctBeta(s.beta2, s.size), s.size);
      }
      c.beta2.value = c.beta2Range.value = String(s.beta2);
      c.theta.value = c.thetaRange.value = String(s.theta);
      c.steps.value = c.stepsRange.value = String(s.steps);
      c.seed.value = String(s.seed);
    }

    /** Show only the parameters of the chosen family; translation-beta needs an odd size. */
    syncVisibility() {
      const s = this.settings, c = this.c;
      this.rows.beta2.hidden = !["dct", "translation", "steered"].includes(s.family);
      this.rows.theta.hidden = s.family !== "steered";
      this.rows.seed.hidden = s.family !== "random";
      this.rows.user.hidden = s.family !== "user";
      c.size.querySelector('option[value="2"]').disabled = s.family === "translation";
      c.family.querySelector('option[value="translation"]').disabled = s.size === 2;
    }

    /** The current n x n kernel (throws with a one-line message for a bad user kernel). */
    kernel() {
      const s = this.settings, n = s.size;
      switch (s.family) {
        case "dct": return dctBeta(s.beta2, n);
        case "translation": return translationBeta(s.beta2, n);
        case "steered": return steeredBeta(s.beta2, s.theta * Math.PI / 180, n);
        case "random": return randomKernel(n, s.seed);
        case "user": return parseKernel(this.c.user.value, n);
        default: throw new Error(`unknown family ${s.family}`);
      }
    }

    /** Rebuild kernel, pattern and propagation from the settings (t back to 0). */
    rebuild() {
      this.pause();
      const s = this.settings;
      if (s.family === "translation" && s.size === 2) { s.size = 3; this.c.size.value = "3"; }
      this.syncVisibility();
      let k;
      try {
        k = this.kernel();
      } catch (err) {
        this.error = err.message;
        this.setStatus(`Kernel not applied: ${err.message}.`, true);
        this.c.user.setAttribute("aria-invalid", "true");
        return;
      }
      this.c.user.removeAttribute("aria-invalid");
      this.error = null;
      this.k = k; this.n = s.size;
      if (s.pattern === "natural" && !window.INFOMECH_LAB_NATURAL) {
        this.setStatus("Loading the natural image…");
        this.loading = loadNatural().then(() => { this.loading = null; this.rebuild(); },
          err => { this.loading = null; this.setStatus(`The natural image did not load: ${err.message}.`, true); });
        return;
      }
      const x0 = s.pattern === "natural" ? naturalImage() : s.pattern === "disc" ? disc(LAB_SIZE) : delta(LAB_SIZE);
      this.prop = new Propagation(x0, LAB_SIZE, LAB_SIZE, labSchedule(k, this.n), s.activation, s.rescale);
      this.c_speed = kernelRadius(this.n);
      this.b2 = { point: beta2(k, this.n, "point"), square: beta2(k, this.n, "square") };
      this.renderKernels();
      this.setStatus(`Reset: ${FAMILY_LABELS[s.family]} ${this.n}x${this.n}, ${s.activation}, ${s.pattern}; t = 0.`);
      this.render();
    }

    setStatus(text, isError) {
      this.status.textContent = text;
      this.status.classList.toggle("iml-error", !!isError);
    }

    // ---------------------------------------------------------------- running

    stepOnce() {
      if (!this.prop || this.error) return false;
      if (this.prop.t >= MAX_STEPS) return false;
      if (this.prop.track.mass[this.prop.t] === 0) return false;
      this.prop.step();
      return true;
    }

    play() {
      if (!this.prop || this.error) return;
      if (this.prop.t >= this.settings.steps) this.rebuild();
      this.playing = true;
      this.c.play.textContent = "Pause";
      // steps are due at the chosen rate from the start; after a slow frame the steps due are
      // caught up (within a 30 ms budget per frame), and the state is drawn once per frame
      const t0 = this.prop.t, start = performance.now();
      const tick = () => {
        if (!this.playing) return;
        const now = performance.now();
        const due = Math.floor((now - start) * this.settings.rate / 1000) - (this.prop.t - t0);
        let moved = true;
        for (let i = 0; i < due && moved && this.prop.t < this.settings.steps; i++) {
          moved = this.stepOnce();
          if (performance.now() - now > 30) break;
        }
        if (due > 0) this.render();
        const done = !moved || this.prop.t >= this.settings.steps;
        if (done) {
          const ms = performance.now() - start, steps = this.prop.t - t0;
          this.lastPlay = { steps, ms, stepsPerSecond: steps / (ms / 1000) };
          this.pause();
          this.setStatus(`Stopped at t = ${this.prop.t}.` +
            (this.prop.track.mass[this.prop.t] === 0 ? " The mass vanished: the activation erased all content." : ""));
        } else {
          requestAnimationFrame(tick);
        }
      };
      requestAnimationFrame(tick);
    }

    pause() {
      this.playing = false;
      if (this.c) {
        this.c.play.textContent = "Play";
      }
    }

    // ---------------------------------------------------------------- measurements

    /** Speed v = |mu(t) - mu(0)| / t (px/step) at the current step. */
    measures() {
      const p = this.prop, t = p.t, tr = p.track;
      const dx = tr.x[t] - tr.x[0], dy = tr.y[t] - tr.y[0];
      const dist = Math.hypot(dx, dy);
      const v = t > 0 ? dist / t : NaN;
      const vc = v / this.c_speed;
      return { t, x: tr.x[t], y: tr.y[t], mass: tr.mass[t], dist, v, vc, vc2: vc * vc };
    }

    // ---------------------------------------------------------------- drawing

    render() {
      if (!this.prop) return;
      const m = this.measures();
      this.drawImage();
      this.drawPlot(m);
      const s = this.settings;
      this.readout.textContent = `t = ${m.t} / ${s.steps} · centre of mass μ = (${fmt(m.x, 3)}, ${fmt(m.y, 3)}) px` +
        ` · |μ(t) − μ(0)| = ${fmt(m.dist, 3)} px · v = ${fmt(m.v, 4)} px/step · c = ${this.c_speed}` +
        ` · v/c = ${fmt(m.vc, 4)} · (v/c)² = ${fmt(m.vc2, 4)}`;
      this.readout.dataset.t = String(m.t);
      this.readout.dataset.mux = String(m.x);
      this.readout.dataset.muy = String(m.y);
      if (m.mass === 0) this.setStatus(`The mass vanished at t = ${m.t}: the activation erased all content.`, true);
      else if (this.prop.reachedBorder(m.t) && m.t > 0 && !this.playing) {
        this.setStatus(`t = ${m.t}: the light cone has reached the image border; from here on the border's zero ` +
                       "padding acts, and the speed no longer measures the kernel alone.");
      }
    }

    /** The state as a colour image (viridis for x >= 0, diverging when negative values occur). */
    drawImage() {
      const p = this.prop, H = p.H, W = p.W, x = p.cur, b = p.box;
      let lo = 0, hi = 0;
      for (let y = b.y0; y < b.y1; y++) {
        for (let i = y * W + b.x0, end = y * W + b.x1; i < end; i++) {
          if (x[i] < lo) lo = x[i];
          if (x[i] > hi) hi = x[i];
        }
      }
      const signed = lo < 0;
      const map = signed ? "diverging" : "sequential";
      const top = signed ? Math.max(-lo, hi) : hi;
      const l = LUTS[map], px = this.pixels.data;
      const zero = signed ? 128 : 0;
      for (let i = 0, j = 0; i < H * W; i++, j += 4) {
        const idx = top > 0 ? Math.round(signed ? 127.5 + 127.5 * x[i] / top : 255 * x[i] / top) : zero;
        const q = 3 * idx;
        px[j] = l[q]; px[j + 1] = l[q + 1]; px[j + 2] = l[q + 2]; px[j + 3] = 255;
      }
      this.offscreen.getContext("2d").putImageData(this.pixels, 0, 0);
      // view: whole image, or the light cone (grown by 2 px, square, at least 15 px)
      let v = { x0: 0, y0: 0, side: W };
      if (this.settings.view === "cone") {
        const pad = 2, bx0 = b.x0 - pad, bx1 = b.x1 + pad, by0 = b.y0 - pad, by1 = b.y1 + pad;
        let side = Math.max(15, bx1 - bx0, by1 - by0);
        side = Math.min(W, side);
        const cx = (bx0 + bx1) / 2, cy = (by0 + by1) / 2;
        v = { x0: Math.max(0, Math.min(W - side, Math.round(cx - side / 2))),
              y0: Math.max(0, Math.min(H - side, Math.round(cy - side / 2))), side };
      }
      const ctx = this.canvas.getContext("2d"), S = this.canvas.width, f = S / v.side;
      ctx.imageSmoothingEnabled = false;
      ctx.clearRect(0, 0, S, S);
      ctx.drawImage(this.offscreen, v.x0, v.y0, v.side, v.side, 0, 0, S, S);
      const X = col => (col - v.x0) * f, Y = row => (row - v.y0) * f;
      // light cone: the window the step computes (outside it the state is exactly zero)
      ctx.save();
      ctx.setLineDash([6, 4]);
      ctx.lineWidth = 2;
      ctx.strokeStyle = "#ff9f1c";
      ctx.strokeRect(X(b.x0), Y(b.y0), (b.x1 - b.x0) * f, (b.y1 - b.y0) * f);
      ctx.restore();
      // centre-of-mass track (pixel centres: col = mu_x + (W-1)/2)
      const tr = p.track, cx = (W - 1) / 2 + 0.5, cy = (H - 1) / 2 + 0.5;
      ctx.save();
      ctx.lineWidth = 2;
      const ink = signed ? "#111111" : "#ffffff";  // the track contrasts with the colour map
      ctx.strokeStyle = ink;
      ctx.shadowColor = signed ? "#ffffff" : "#000000"; ctx.shadowBlur = 2;
      ctx.beginPath();
      for (let t = 0; t <= p.t; t++) {
        if (!Number.isFinite(tr.x[t])) break;
        const px_ = X(tr.x[t] + cx), py_ = Y(tr.y[t] + cy);
        if (t === 0) ctx.moveTo(px_, py_); else ctx.lineTo(px_, py_);
      }
      ctx.stroke();
      const mark = (t, colour) => {
        if (!Number.isFinite(tr.x[t])) return;
        ctx.beginPath();
        ctx.fillStyle = colour;
        ctx.arc(X(tr.x[t] + cx), Y(tr.y[t] + cy), 4, 0, 2 * Math.PI);
        ctx.fill(); ctx.stroke();
      };
      mark(0, ink);
      mark(p.t, "#e4002b");
      ctx.restore();
      // colour bar and its scale
      if (this.barMap !== map) {  // redrawn only when the colour map changes
        const cb = this.colourbar.getContext("2d");
        for (let i = 0; i < 256; i++) { cb.fillStyle = cssColour(map, i / 255); cb.fillRect(i, 0, 1, 10); }
        this.barMap = map;
      }
      const e = v2 => (Math.abs(v2) >= 1e4 || (v2 !== 0 && Math.abs(v2) < 1e-3) ? v2.toExponential(2) : fmt(v2, 3));
      this.scale.innerHTML = "";
      this.scale.append(el("span", { text: signed ? e(-top) : "0" }), el("span", { text: signed ? "0" : "" }),
        el("span", { text: e(top) }));
      const mm = this.measures();
      const desc = `State x at t = ${p.t} (${signed ? "signed, diverging colours" : "non-negative, viridis"}, ` +
        `scale ${signed ? e(-top) + " to " : "0 to "}${e(top)}); ${signed ? "black" : "white"} line: ` +
        "centre-of-mass track; " +
        "red dot: current centre; orange dashes: light cone.";
      this.canvas.setAttribute("aria-label", desc);
      this.imageCaption.textContent = `t = ${p.t}: ${v.side}x${v.side} px shown of ${W}x${H}` +
        ` (${this.settings.view === "cone" ? "following the light cone" : "whole image"}); colour: x, ` +
        `${signed ? "diverging around 0" : "0 to max"}; ${signed ? "black" : "white"}: track of μ; ` +
        "red: μ(t); orange: light cone." +
        (Number.isFinite(mm.x) ? "" : " The mass is zero.");
    }

    /** Speed-law plot: y = x, the library's measured curve(s), the live point (beta^2, (v/c)^2). */
    drawPlot(m) {
      const g = this.plot, s = this.settings, kind = s.split;
      while (g.lastChild && g.lastChild !== this.plotTitle) g.removeChild(g.lastChild);
      const L = 46, R = 310, T = 12, B = 226;
      const curves = this.curves();
      let ymax = 1.05;
      for (const cv of curves) for (const v of cv.v_over_c_sq) if (v !== null && v * 1.05 > ymax) ymax = v * 1.05;
      if (Number.isFinite(m.vc2) && m.vc2 * 1.05 > ymax) ymax = Math.min(4, m.vc2 * 1.05);
      const X = b => L + (R - L) * b, Y = v => B - (B - T) * (v / ymax);
      g.append(svg("rect", { x: L, y: T, width: R - L, height: B - T, class: "iml-frame" }));
      for (const tk of [0, 0.25, 0.5, 0.75, 1]) {
        g.append(svg("line", { x1: X(tk), x2: X(tk), y1: B, y2: B + 4, class: "iml-axis" }));
        const tx = svg("text", { x: X(tk), y: B + 15, class: "iml-tick", "text-anchor": "middle" });
        tx.textContent = String(tk); g.append(tx);
      }
      const ystep = ymax > 2 ? 0.5 : 0.25;
      for (let tk = 0; tk <= ymax + 1e-9; tk += ystep) {
        g.append(svg("line", { x1: L - 4, x2: L, y1: Y(tk), y2: Y(tk), class: "iml-axis" }));
        const tx = svg("text", { x: L - 6, y: Y(tk) + 3, class: "iml-tick", "text-anchor": "end" });
        tx.textContent = String(tk); g.append(tx);
      }
      const xl = svg("text", { x: (L + R) / 2, y: 256, class: "iml-label", "text-anchor": "middle" });
      xl.textContent = `β² (${kind === "square" ? "square" : "point"} split)`;
      const yl = svg("text", { x: 12, y: (T + B) / 2, class: "iml-label", "text-anchor": "middle",
                               transform: `rotate(-90 12 ${(T + B) / 2})` });
      yl.textContent = "(v/c)²";
      g.append(xl, yl);
      g.append(svg("line", { x1: X(0), y1: Y(0), x2: X(1), y2: Y(1), class: "iml-identity" }));
      for (const cv of curves) {
        const xs = kind === "square" ? cv.beta2_square : cv.beta2_point;
        const pts = [];
        cv.v_over_c_sq.forEach((v, i) => { if (v !== null) pts.push(`${X(xs[i]).toFixed(2)},${Y(v).toFixed(2)}`); });
        g.append(svg("polyline", { points: pts.join(" "), class: `iml-curve iml-curve-t${cv.t}` }));
      }
      // legend (top left, inside the frame)
      const legend = [["iml-curve iml-curve-t10", "t = 10"], ["iml-curve iml-curve-t50", "t = 50"],
        ["iml-identity", "y = x"]].filter((_, i) => i === 2 || curves.some(cv => cv.t === [10, 50][i]));
      legend.forEach(([cls, text], i) => {
        const y = T + 12 + 13 * i;
        g.append(svg("line", { x1: L + 8, x2: L + 28, y1: y, y2: y, class: cls }));
        const tx = svg("text", { x: L + 33, y: y + 3.5, class: "iml-tick" });
        tx.textContent = text; g.append(tx);
      });
      const ly = T + 12 + 13 * legend.length;
      g.append(svg("circle", { cx: L + 18, cy: ly, r: 4, class: "iml-point iml-legend" }));
      const lt = svg("text", { x: L + 33, y: ly + 3.5, class: "iml-tick" });
      lt.textContent = "this run"; g.append(lt);
      const b2 = this.b2[kind];
      if (Number.isFinite(m.vc2)) {
        const dot = svg("circle", { cx: X(b2), cy: Y(Math.min(m.vc2, ymax)), r: 5, class: "iml-point" });
        g.append(dot);
      }
      const data = window.INFOMECH_LAB_CURVES;
      const which = curves.length ? `${FAMILY_LABELS[curves[0].family]} ${curves[0].n}x${curves[0].n}, ` +
        `${curves[0].activation}, at t = ${curves.map(cv => cv.t).join(" (solid) and ")} (dashed)` : "";
      this.plotTitle.textContent = `Speed law: (v/c)² against β²; point at β² = ${fmt(b2, 3)}, ` +
        `(v/c)² = ${fmt(m.vc2, 4)} (t = ${m.t})`;
      this.plotCaption.textContent = !data ? "The measured curves are missing (lab-curves.js did not load)."
        : (curves.length ? `Curves: the library's measured (v/c)² for ${which}, single pixel on a 301x301 ` +
           "image, measured by infomech.sweeps at build time" +
           (["dct", "translation"].includes(s.family) ? "" : " (the DCT-beta family, shown for reference)") +
           `. Grey: y = x. Red dot: this run at t = ${m.t}.`
           : "No measured curve for this setting.") ;
    }

    /** The build-time curves matching family, size and activation (DCT-beta as the reference). */
    curves() {
      const data = window.INFOMECH_LAB_CURVES;
      if (!data) return [];
      const s = this.settings;
      const fam = ["dct", "translation"].includes(s.family) ? s.family : "dct";
      return data.curves.filter(cv => cv.family === fam && cv.n === s.size && cv.activation === s.activation);
    }

    /** The kernel, its even and odd parts under the chosen split, and beta^2 under both splits. */
    renderKernels() {
      const k = this.k, n = this.n, kind = this.settings.split;
      const [e, o] = split(k, n, kind);
      const top = Math.max(...Array.from(k, Math.abs), 1e-300);
      const table = (a, caption) => {
        const t = el("table", { className: "iml-kernel" }, [el("caption", { text: caption })]);
        const body = el("tbody");
        for (let i = 0; i < n; i++) {
          const tr = el("tr");
          for (let j = 0; j < n; j++) {
            const v = a[i * n + j], td = el("td", { text: fmt(v, 3) });
            td.style.background = cssColour("diverging", 0.5 + 0.5 * v / top);
            td.style.color = Math.abs(v / top) > 0.6 ? "#fff" : "#111";
            tr.append(td);
          }
          body.append(tr);
        }
        t.append(body);
        return t;
      };
      const names = kind === "square" ? ["sym part k_s", "anti part k_a"] : ["even part k_e", "odd part k_o"];
      this.kernels.textContent = "";
      this.kernels.append(
        el("div", { className: "iml-kernel-row" }, [table(k, `kernel k (${n}x${n})`), table(e, names[0]),
          table(o, names[1])]),
        el("p", { className: "iml-beta" }, [
          `β² = |k_o|²/|k|²: point split ${fmt(this.b2.point, 6)}, square split ${fmt(this.b2.square, 6)}; ` +
          `|k|² = ${fmt(energy(k), 6)}; speed limit c = ${kernelRadius(n)} px/step.` +
          (n === 2 ? " The 2x2 kernel is placed in a 3x3 grid, top-left on even steps and bottom-right on odd steps." : "")]));
    }

    /** Everything the browser test needs, at full precision. */
    snapshot() {
      const p = this.prop;
      return { settings: Object.assign({}, this.settings), n: this.n, error: this.error,
               kernel: this.k ? Array.from(this.k) : null, t: p ? p.t : null,
               track: p ? { x: p.track.x.slice(), y: p.track.y.slice(), mass: p.track.mass.slice() } : null,
               beta2: this.b2, box: p ? Object.assign({}, p.box) : null, lastPlay: this.lastPlay,
               loading: !!this.loading };
    }
  }

  /** A kernel as text, 4 decimals, one row per line (the user kernel's starting point). */
  function kernelText(k, n) {
    const rows = [];
    for (let i = 0; i < n; i++) rows.push(Array.from(k.slice(i * n, i * n + n), v => fmt(v, 4)).join(" "));
    return rows.join("\n");
  }

  /** Throughput of step + render (or the step alone), synchronously, for the browser test. */
  function benchmark(lab, steps, render = true) {
    lab.pause();
    lab.rebuild();
    const start = performance.now();
    for (let i = 0; i < steps; i++) { lab.stepOnce(); if (render) lab.render(); }
    const ms = performance.now() - start;
    if (!render) lab.render();
    return { steps, ms, stepsPerSecond: steps / (ms / 1000), window: Object.assign({}, lab.prop.box) };
  }

  const panels = [];
  function init() {
    for (const root of document.querySelectorAll(".infomech-lab")) {
      if (root.dataset.imlReady) continue;
      root.dataset.imlReady = "1";
      panels.push(new Lab(root));
    }
  }

  window.InfomechLab = {
    panels, init, benchmark, Propagation, moments,
    dctMatrix, idct2, namedBasis, dctBeta, shiftKernel, translationBeta, steeredGradient, steeredBeta,
    randomKernel, parseKernel, alternating2x2, labSchedule, evenOdd, symAnti, energy, beta2,
    delta, disc, naturalImage, loadNatural, LAB_SIZE, LEAKY_SLOPE,
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
