// The UI benchmark (tests/bench/run.sh, BENCH_ONLY=ui): not a test. It measures the browser
// face on a large workspace and prints KEY=VALUE lines on stdout (progress on stderr), which
// run.sh turns into rows of BENCHMARKS.md's table.
//
//   node tests/e2e/bench.mjs --data-dir D --record shop/public.inventory/SKU-000001 [--runs 10]
//        [--scroll-seconds 6] [--parts changes,record,scroll,bundle,desktop] [--desktop-runs 5]
//
// D is a workspace made by `rowtrail-bench ui-cache` (1,000,000 events, one record with 1,000
// versions: --record names it as source/schema.table/key). Parts:
//
//   changes  (a) time to the first rows of the Changes screen, two ways, --runs times each:
//            `load`: a fresh browser context opens the app's address (the Changes screen is the
//            start page): from navigation start (performance.timeOrigin) to the end of the
//            first rendering update (a requestAnimationFrame callback, then a posted message,
//            which runs after that frame's paint) with an event row in the DOM. Includes
//            loading the page and bundle over HTTP (localhost), the count and the first block.
//            `nav`: in a loaded app, from setting location.hash to #/changes (from the Sources
//            screen) to the same "rows painted" point.
//   record   (b) opening the record: from setting location.hash to its #/record/… address (from
//            the Changes screen, a fresh page each run, so no cached answer) to the first frame
//            painted with the version timeline and the selected version's field changes.
//   scroll   (c) frame times while the Changes list scrolls: wheel events (Playwright's mouse,
//            120 px every ~16 ms) for a third of --scroll-seconds, a fast drag-like scroll
//            (scrollTop moved 2,000 px each frame, new blocks loading all the time) for a
//            third, then a jump to 98 % of the list and wheel again. Every requestAnimationFrame
//            interval is recorded in the page: frames over 50 ms, p95, max; also the time from
//            the jump to rows (not placeholders) painted.
//   bundle   (d) gzip sizes (zlib level 9) of ui/dist's JS and CSS assets (index.html apart).
//   desktop  (e) cold start of the desktop app (target/release/rowtrail-desktop --data-dir D)
//            under Xvfb through tauri-driver + WebKitWebDriver, as src-tauri/tests/smoke.rs
//            does: from just before the WebDriver "new session" request (tauri-driver spawns
//            the app then) to the first poll (every 10 ms) that finds an event row. Session
//            creation and the polling's round trips are included and reported apart. A fresh
//            HOME (no WebKit caches, no window state) for each launch; the binary and the
//            cache file are warm in the OS page cache.
//
// Environment: ROWTRAIL_BIN (default target/release/rowtrail), ROWTRAIL_UI_DIR (ui/dist),
// CHROMIUM (/usr/bin/chromium), ROWTRAIL_DESKTOP_APP (target/release/rowtrail-desktop),
// TAURI_DRIVER (target/tools/bin/tauri-driver).

import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import net from "node:net";
import zlib from "node:zlib";
import { chromium } from "playwright-core";
import { startServe, stopServe } from "./serve.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "../..");
const BIN = process.env.ROWTRAIL_BIN ?? join(root, "target/release/rowtrail");
const UI_DIR = process.env.ROWTRAIL_UI_DIR ?? join(root, "ui/dist");
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const APP = process.env.ROWTRAIL_DESKTOP_APP ?? join(root, "target/release/rowtrail-desktop");
const TAURI_DRIVER = process.env.TAURI_DRIVER ?? join(root, "target/tools/bin/tauri-driver");

function parseArgs(argv) {
  const o = { runs: 10, scrollSeconds: 6, parts: "changes,record,scroll,bundle", desktopRuns: 5 };
  for (let i = 0; i < argv.length; i += 2) {
    const [k, v] = [argv[i], argv[i + 1]];
    if (v === undefined) throw new Error(`${k} needs a value`);
    if (k === "--data-dir") o.dataDir = resolve(v);
    else if (k === "--record") o.record = v;
    else if (k === "--runs") o.runs = Number(v);
    else if (k === "--scroll-seconds") o.scrollSeconds = Number(v);
    else if (k === "--parts") o.parts = v;
    else if (k === "--desktop-runs") o.desktopRuns = Number(v);
    else throw new Error(`unknown option ${k}`);
  }
  o.parts = new Set(o.parts.split(",").filter(Boolean));
  if (!o.dataDir && [...o.parts].some((p) => p !== "bundle")) throw new Error("--data-dir is required");
  if (o.parts.has("record") && !o.record) throw new Error("--record source/schema.table/key is required for the record part");
  return o;
}

const log = (...a) => console.error("ui-bench:", ...a);
const out = (k, v) => console.log(`${k}=${typeof v === "number" ? fmt(v) : v}`);
const fmt = (x) => (Number.isInteger(x) ? String(x) : x.toFixed(1));

function stats(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  if (!n) return { n: 0, median: NaN, p95: NaN, max: NaN, min: NaN };
  const median = n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
  const p95 = s[Math.min(n, Math.max(1, Math.ceil(n * 0.95))) - 1];
  return { n, median, p95, max: s[n - 1], min: s[0] };
}

function printStats(prefix, xs) {
  const s = stats(xs);
  out(`${prefix}_median_ms`, s.median);
  out(`${prefix}_max_ms`, s.max);
  out(`${prefix}_min_ms`, s.min);
  out(`${prefix}_n`, s.n);
  return s;
}

// ---------------------------------------------------------------- the server

let server; // { child, origin, token, … } of startServe

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- in the page

/**
 * Installed before the app's own scripts. `__rtWhen(selectors, since)` resolves once every
 * selector matches (seen by a MutationObserver) with {dom, paint}: milliseconds from `since`
 * (a performance.now() value) to the mutation, and to the end of the first rendering update
 * after it (rAF callback, then a posted message, which runs after that frame is painted).
 * `__rtFirstRows` does it for the first event row from navigation start.
 */
function instrument() {
  const afterPaint = (cb) =>
    requestAnimationFrame(() => {
      const ch = new MessageChannel();
      ch.port1.onmessage = () => cb(performance.now());
      ch.port2.postMessage(0);
    });
  window.__rtWhen = (selectors, since) =>
    new Promise((resolve) => {
      const all = () => selectors.every((s) => document.querySelector(s));
      const found = (dom) => afterPaint((paint) => resolve({ dom: dom - since, paint: paint - since }));
      if (all()) return found(performance.now());
      const mo = new MutationObserver(() => {
        if (all()) {
          mo.disconnect();
          found(performance.now());
        }
      });
      mo.observe(document, { childList: true, subtree: true });
    });
  window.__rtFirstRows = window.__rtWhen(['[data-testid="event-row"]'], 0);
}

/** API calls the page made since `since` (resource timing): [{command, start, ms}]. */
async function apiCalls(page, since = 0) {
  return page.evaluate(
    (since) =>
      performance
        .getEntriesByType("resource")
        .filter((e) => e.name.includes("/api/") && e.startTime >= since)
        .map((e) => ({ command: new URL(e.name).pathname.replace("/api/", ""), start: Math.round(e.startTime - since), ms: Math.round(e.duration) })),
    since,
  );
}

function describeCalls(calls) {
  return calls.map((c) => `${c.command}@${c.start}+${c.ms}`).join(" ");
}

/** Per command, the durations seen over all runs. */
function collectCalls(into, calls) {
  for (const c of calls) (into[c.command] ??= []).push(c.ms);
}

function printCalls(prefix, calls) {
  for (const [cmd, ms] of Object.entries(calls)) {
    const s = stats(ms);
    out(`${prefix}_api_${cmd}_median_ms`, s.median);
    out(`${prefix}_api_${cmd}_max_ms`, s.max);
  }
}

// ---------------------------------------------------------------- browser parts

async function newPage(browser) {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  await context.addInitScript(instrument);
  const page = await context.newPage();
  page.setDefaultTimeout(60_000);
  page.on("pageerror", (e) => log("page error:", String(e)));
  return { context, page };
}

async function changesLoad(browser, app, runs) {
  const paint = [];
  const dom = [];
  const calls = {};
  for (let i = 0; i < runs; i++) {
    const { context, page } = await newPage(browser);
    await page.goto(`${app.origin}/#token=${app.token}`);
    const t = await page.evaluate(() => window.__rtFirstRows);
    const c = await apiCalls(page);
    collectCalls(calls, c);
    log(`changes load ${i + 1}/${runs}: rows in DOM ${t.dom.toFixed(0)} ms, painted ${t.paint.toFixed(0)} ms; api ${describeCalls(c)}`);
    dom.push(t.dom);
    paint.push(t.paint);
    await context.close();
  }
  printStats("changes_load_paint", paint);
  printStats("changes_load_dom", dom);
  printCalls("changes_load", calls);
}

async function openApp(browser, app, hash = "") {
  const { context, page } = await newPage(browser);
  await page.goto(`${app.origin}/#${hash}${hash.includes("?") ? "&" : "?"}token=${app.token}`);
  return { context, page };
}

async function changesNav(browser, app, runs) {
  const paint = [];
  const calls = {};
  for (let i = 0; i < runs; i++) {
    const { context, page } = await openApp(browser, app, "/sources");
    await page.getByTestId("screen-sources").waitFor();
    await page.waitForLoadState("networkidle");
    await sleep(300);
    const { t, since } = await page.evaluate(async () => {
      const since = performance.now();
      const p = window.__rtWhen(['[data-testid="screen-changes"] [data-testid="event-row"]'], since);
      location.hash = "#/changes";
      return { t: await p, since };
    });
    const c = await apiCalls(page, since);
    collectCalls(calls, c);
    log(`changes nav ${i + 1}/${runs}: rows painted ${t.paint.toFixed(0)} ms (DOM ${t.dom.toFixed(0)}); api ${describeCalls(c)}`);
    paint.push(t.paint);
    await context.close();
  }
  printStats("changes_nav_paint", paint);
  printCalls("changes_nav", calls);
}

async function record(browser, app, runs, rec) {
  const paint = [];
  const calls = {};
  let versions = null;
  for (let i = 0; i < runs; i++) {
    const { context, page } = await openApp(browser, app);
    await page.locator('[data-testid="event-row"]').first().waitFor();
    await page.waitForLoadState("networkidle");
    await sleep(300);
    const hash = "#/record/" + rec.split("/").map(encodeURIComponent).join("/");
    const { t, since } = await page.evaluate(async (hash) => {
      const since = performance.now();
      const p = window.__rtWhen(
        ['[data-testid="screen-record"] [data-testid="version-item"]', '[data-testid="version-panel"] [data-testid="field-changes"], [data-testid="version-panel"] .card-body'],
        since,
      );
      location.hash = hash;
      return { t: await p, since };
    }, hash);
    const c = await apiCalls(page, since);
    collectCalls(calls, c);
    versions = await page.evaluate(() => document.querySelector('[data-testid="version-panel"]')?.dataset.version ?? null);
    log(`record ${i + 1}/${runs}: painted ${t.paint.toFixed(0)} ms (DOM ${t.dom.toFixed(0)}); versions ${versions}; api ${describeCalls(c)}`);
    paint.push(t.paint);
    await context.close();
  }
  out("record_versions", versions ?? "?");
  printStats("record_paint", paint);
  printCalls("record", calls);
}

async function scroll(browser, app, seconds) {
  const { context, page } = await openApp(browser, app);
  await page.locator('[data-testid="event-row"]').first().waitFor();
  await page.waitForLoadState("networkidle");
  await sleep(500);
  const list = page.getByTestId("changes-list");
  const box = await list.boundingBox();
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  // Frame recorder: every rAF interval from now on.
  await page.evaluate(() => {
    const r = (window.__rtFrames = { deltas: [], phases: [], phase: "wheel", last: null, on: true, longtasks: [] });
    const tick = (t) => {
      if (r.last !== null) {
        r.deltas.push(t - r.last);
        r.phases.push(r.phase);
      }
      r.last = t;
      if (r.on) requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
    try {
      new PerformanceObserver((l) => l.getEntries().forEach((e) => r.longtasks.push(e.duration))).observe({ type: "longtask" });
    } catch {}
  });
  const third = (seconds * 1000) / 3;
  // 1. Wheel, as a mouse or touchpad would.
  let until = Date.now() + third;
  let wheels = 0;
  while (Date.now() < until) {
    await page.mouse.wheel(0, 120);
    wheels++;
    await sleep(16);
  }
  // 2. Fast: scrollTop moved every frame (as dragging the scrollbar does).
  await page.evaluate(
    (ms) =>
      new Promise((resolve) => {
        window.__rtFrames.phase = "fast";
        const el = document.querySelector('[data-testid="changes-list"]');
        const end = performance.now() + ms;
        const step = () => {
          el.scrollTop += 2000;
          if (performance.now() < end) requestAnimationFrame(step);
          else resolve();
        };
        requestAnimationFrame(step);
      }),
    third,
  );
  // 3. A jump near the end, then wheel again.
  const jump = await page.evaluate(async () => {
    const el = document.querySelector('[data-testid="changes-list"]');
    window.__rtFrames.phase = "jump";
    const total = Number((document.querySelector('[data-testid="event-count"] strong')?.textContent ?? "0").replace(/[^\d]/g, ""));
    const since = performance.now();
    const p = new Promise((resolve) => {
      const check = () => {
        const rows = el.querySelectorAll('[data-testid="event-row"]');
        const loading = el.querySelectorAll('[data-testid="event-row-loading"]');
        const first = rows[0] ? Number(rows[0].dataset.index) : -1;
        if (rows.length > 0 && loading.length === 0 && first > total * 0.9) {
          requestAnimationFrame(() => {
            const ch = new MessageChannel();
            ch.port1.onmessage = () => resolve({ ms: performance.now() - since, first });
            ch.port2.postMessage(0);
          });
        } else setTimeout(check, 5);
      };
      check();
    });
    el.scrollTop = el.scrollHeight * 0.98;
    return p;
  });
  until = Date.now() + third;
  while (Date.now() < until) {
    await page.mouse.wheel(0, 120);
    wheels++;
    await sleep(16);
  }
  const r = await page.evaluate(() => {
    window.__rtFrames.on = false;
    const el = document.querySelector('[data-testid="changes-list"]');
    return { deltas: window.__rtFrames.deltas, phases: window.__rtFrames.phases, longtasks: window.__rtFrames.longtasks, scrollTop: el.scrollTop, scrollHeight: el.scrollHeight };
  });
  const s = stats(r.deltas);
  const over50 = r.deltas.filter((d) => d > 50).length;
  for (const ph of ["wheel", "fast", "jump"]) {
    const d = r.deltas.filter((_, i) => r.phases[i] === ph);
    const ps = stats(d);
    log(`scroll ${ph === "jump" ? "jump + wheel" : ph}: ${ps.n} frames, p95 ${ps.p95?.toFixed(1)} ms, max ${ps.max?.toFixed(1)} ms, ${d.filter((x) => x > 50).length} over 50 ms`);
    out(`scroll_${ph}_frame_max_ms`, ps.max);
    out(`scroll_${ph}_frames_over_50ms`, d.filter((x) => x > 50).length);
  }
  log(
    `scroll: ${s.n} frames over ${seconds}s (${wheels} wheel steps), median ${s.median.toFixed(1)} ms, p95 ${s.p95.toFixed(1)} ms, max ${s.max.toFixed(1)} ms, ${over50} over 50 ms; long tasks ${r.longtasks.map((d) => d.toFixed(0)).join(" ") || "none"}; jump to row ${jump.first} drawn in ${jump.ms.toFixed(0)} ms`,
  );
  out("scroll_frames", s.n);
  out("scroll_seconds", seconds);
  out("scroll_frame_median_ms", s.median);
  out("scroll_frame_p95_ms", s.p95);
  out("scroll_frame_max_ms", s.max);
  out("scroll_frames_over_50ms", over50);
  out("scroll_longtasks", r.longtasks.length);
  out("scroll_longtask_max_ms", r.longtasks.length ? Math.max(...r.longtasks) : 0);
  out("scroll_jump_rows_ms", jump.ms);
  await context.close();
}

function bundle() {
  const dir = join(UI_DIR, "assets");
  let js = 0;
  let css = 0;
  let raw = 0;
  for (const f of readdirSync(dir)) {
    const p = join(dir, f);
    const data = readFileSync(p);
    const gz = zlib.gzipSync(data, { level: 9 }).length;
    if (f.endsWith(".js")) js += gz;
    else if (f.endsWith(".css")) css += gz;
    else continue;
    raw += statSync(p).size;
  }
  const html = zlib.gzipSync(readFileSync(join(UI_DIR, "index.html")), { level: 9 }).length;
  log(`bundle: JS ${js} B + CSS ${css} B gzipped (${raw} B raw), index.html ${html} B`);
  out("bundle_js_gzip_bytes", js);
  out("bundle_css_gzip_bytes", css);
  out("bundle_gzip_bytes", js + css);
  out("bundle_raw_bytes", raw);
  out("bundle_html_gzip_bytes", html);
}

// ---------------------------------------------------------------- desktop

function freePort() {
  return new Promise((res, rej) => {
    const s = net.createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
    s.on("error", rej);
  });
}

async function waitPort(port, ms, child) {
  const until = Date.now() + ms;
  for (;;) {
    const ok = await new Promise((r) => {
      const s = net.connect(port, "127.0.0.1", () => (s.destroy(), r(true)));
      s.on("error", () => r(false));
    });
    if (ok) return;
    if (child && child.exitCode !== null) throw new Error(`the process for port ${port} exited`);
    if (Date.now() > until) throw new Error(`nothing listens on ${port}`);
    await sleep(20);
  }
}

async function wd(method, url, body) {
  const res = await fetch(url, { method, headers: { "content-type": "application/json" }, body: body ? JSON.stringify(body) : undefined });
  const v = await res.json().catch(() => null);
  if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${JSON.stringify(v)}`);
  return v?.value;
}

async function startXvfb() {
  for (let n = 90; n < 200; n++) {
    if (existsSync(`/tmp/.X${n}-lock`) || existsSync(`/tmp/.X11-unix/X${n}`)) continue;
    const child = spawn("Xvfb", [`:${n}`, "-screen", "0", "1280x800x24", "-nolisten", "tcp"], { stdio: "ignore" });
    const until = Date.now() + 10_000;
    while (!existsSync(`/tmp/.X11-unix/X${n}`)) {
      if (child.exitCode !== null || Date.now() > until) throw new Error(`Xvfb :${n} did not start`);
      await sleep(20);
    }
    return { display: `:${n}`, child };
  }
  throw new Error("no free X display");
}

async function desktop(dataDir, runs) {
  for (const [what, p] of [["desktop app (cargo build --release -p rowtrail-desktop)", APP], ["tauri-driver (src-tauri/scripts/install-tauri-driver.sh)", TAURI_DRIVER]]) {
    if (!existsSync(p)) throw new Error(`missing ${what}: ${p}`);
  }
  const xvfb = process.env.DISPLAY ? null : await startXvfb();
  const display = process.env.DISPLAY || xvfb.display;
  const total = [];
  const session = [];
  const page = [];
  // A fresh HOME for each launch, all removed at the end (WebKit's helper processes may still
  // write their caches for a moment after the app has gone).
  const homes = mkdtempSync(join(tmpdir(), "rowtrail-ui-bench-"));
  try {
    for (let i = 0; i < runs; i++) {
      const home = join(homes, `home-${i}`);
      const port = await freePort();
      const nativePort = await freePort();
      let driverLog = "";
      const driver = spawn(TAURI_DRIVER, ["--port", String(port), "--native-port", String(nativePort)], {
        stdio: ["ignore", "pipe", "pipe"],
        env: {
          ...process.env,
          DISPLAY: display,
          HOME: home,
          XDG_CONFIG_HOME: join(home, ".config"),
          XDG_DATA_HOME: join(home, ".local/share"),
          XDG_CACHE_HOME: join(home, ".cache"),
          WAYLAND_DISPLAY: "",
        },
      });
      driver.stdout.on("data", (c) => (driverLog += c));
      driver.stderr.on("data", (c) => (driverLog += c));
      try {
        await waitPort(port, 20_000, driver);
        await waitPort(nativePort, 20_000, driver);
        const base = `http://127.0.0.1:${port}`;
        const t0 = performance.now();
        const s = await wd("POST", `${base}/session`, {
          capabilities: { alwaysMatch: { browserName: "wry", "tauri:options": { application: APP, args: ["--data-dir", dataDir] } } },
        });
        const t1 = performance.now();
        const sid = s.sessionId;
        let t2;
        const until = Date.now() + 60_000;
        for (;;) {
          const found = await wd("POST", `${base}/session/${sid}/elements`, { using: "css selector", value: '[data-testid="event-row"]' });
          if (found?.length) {
            t2 = performance.now();
            break;
          }
          if (Date.now() > until) throw new Error("no event row within 60 s");
          await sleep(10);
        }
        const pageMs = await wd("POST", `${base}/session/${sid}/execute/sync`, { script: "return performance.now()", args: [] });
        // Where the page's time went: its navigation timing and the IPC calls it made.
        const detail = await wd("POST", `${base}/session/${sid}/execute/sync`, {
          script: `const n = performance.getEntriesByType("navigation")[0] || {};
            const r = performance.getEntriesByType("resource").map((e) => e.name.replace(/^[a-z]+:\\/\\/[^/]+/, "") + "@" + Math.round(e.startTime) + "+" + Math.round(e.duration));
            return "DOM interactive " + Math.round(n.domInteractive) + ", DOMContentLoaded " + Math.round(n.domContentLoadedEventEnd) + "; " + r.join(" ");`,
          args: [],
        });
        log(`desktop ${i + 1}/${runs}: spawn to first rows ${(t2 - t0).toFixed(0)} ms (session ${(t1 - t0).toFixed(0)} ms; the page's own clock at detection ${Number(pageMs).toFixed(0)} ms: ${detail})`);
        total.push(t2 - t0);
        session.push(t1 - t0);
        page.push(Number(pageMs));
        await fetch(`${base}/session/${sid}`, { method: "DELETE" }).catch(() => {});
      } catch (e) {
        log(`tauri-driver log:\n${driverLog}`);
        throw e;
      } finally {
        // Ending the session closes the app; then the driver (and its WebKitWebDriver) goes.
        const exited = new Promise((r) => (driver.exitCode !== null ? r() : driver.once("exit", r)));
        driver.kill("SIGTERM");
        if (!(await Promise.race([exited.then(() => true), sleep(5_000).then(() => false)]))) driver.kill("SIGKILL");
        await sleep(300);
      }
    }
  } finally {
    xvfb?.child.kill("SIGTERM");
    await sleep(1_000);
    try {
      rmSync(homes, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
    } catch (e) {
      log(`could not remove ${homes}: ${e.message}`);
    }
  }
  printStats("desktop_start", total);
  printStats("desktop_session", session);
  printStats("desktop_page", page);
}

// ---------------------------------------------------------------- main

const o = parseArgs(process.argv.slice(2));
out("load_start", readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ").replace(/ /g, "/"));
let browser;
try {
  if (o.parts.has("bundle")) bundle();
  if (["changes", "record", "scroll"].some((p) => o.parts.has(p))) {
    for (const [what, p] of [["release rowtrail (cargo build --release -p rowtrail-cli)", BIN], ["built UI (cd ui && npm ci && npm run build)", join(UI_DIR, "index.html")], ["Chromium", CHROMIUM]]) {
      if (!existsSync(p)) throw new Error(`missing ${what}: ${p}`);
    }
    const t = performance.now();
    const app = (server = await startServe(BIN, ["--data-dir", o.dataDir, "serve", "--no-open", "--port", "0", "--ui-dir", UI_DIR], 120_000));
    log(`rowtrail serve up in ${(performance.now() - t).toFixed(0)} ms at ${app.origin}`);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      timeout: 60_000,
      args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
    out("chromium", browser.version());
    // The first load after the server started: it builds the list's position index (one
    // pass over every event id) and reads SQLite's pages for the first time. Reported on its
    // own; the timed runs after it find the server warm, as it is for a user after that.
    {
      const { context, page } = await newPage(browser);
      await page.goto(`${app.origin}/#token=${app.token}`);
      const t = await page.evaluate(() => window.__rtFirstRows);
      const c = await apiCalls(page);
      log(`changes first load after serve started: rows painted ${t.paint.toFixed(0)} ms; api ${describeCalls(c)}`);
      out("changes_first_load_paint_ms", t.paint);
      await context.close();
    }
    if (o.parts.has("changes")) {
      await changesLoad(browser, app, o.runs);
      await changesNav(browser, app, o.runs);
    }
    if (o.parts.has("record")) await record(browser, app, o.runs, o.record);
    if (o.parts.has("scroll")) await scroll(browser, app, o.scrollSeconds);
    await browser.close();
    browser = null;
    await stopServe(server.child);
  }
  if (o.parts.has("desktop")) await desktop(o.dataDir, o.desktopRuns);
} catch (e) {
  log(String(e?.stack ?? e));
  process.exitCode = 1;
} finally {
  if (browser) await browser.close().catch(() => {});
  await stopServe(server?.child).catch(() => {});
  out("load_end", readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ").replace(/ /g, "/"));
}
