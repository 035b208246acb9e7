// End-to-end tests of the browser face: `rowtrail serve --demo` on a throwaway data directory,
// driven by Debian's Chromium through playwright-core (its own browser download does not work
// here). Builds nothing: expects target/debug/rowtrail and ui/dist (`make test-e2e` builds both).
//
//   cd tests/e2e && npm ci && node --test run.mjs
//
// Environment: ROWTRAIL_BIN (default ../../target/debug/rowtrail), ROWTRAIL_UI_DIR (default
// ../../ui/dist), CHROMIUM (default /usr/bin/chromium), SQLITE3 (default sqlite3, used to write
// a hostile value into the demo database). Screenshots go to tests/e2e/screenshots/.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import http from "node:http";
import { chromium } from "playwright-core";
import { startServe, stopServe } from "./serve.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "../..");
const BIN = process.env.ROWTRAIL_BIN ?? join(root, "target/debug/rowtrail");
const UI_DIR = process.env.ROWTRAIL_UI_DIR ?? join(root, "ui/dist");
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const SQLITE3 = process.env.SQLITE3 ?? "sqlite3";
const SHOTS = join(here, "screenshots");

const TEST = { timeout: 30_000 };
const WAIT = 15_000; // the longest single wait inside a test

const XSS = "<img src=x onerror=window.__xss=1>";

let dataDir;
let server; // { child, url, origin, port, token, log } of startServe
let url; // http://127.0.0.1:PORT/#token=…
let origin; // http://127.0.0.1:PORT
let port;
let token;
let browser;
const pages = [];
const browserErrors = [];

/** A fresh tab on the app, the token taken from the printed URL as a user would. */
async function openApp() {
  // Its own context (cookies, storage), as a separate browser session would have.
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  pages.push(page);
  page.setDefaultTimeout(WAIT);
  page.on("pageerror", (e) => browserErrors.push(String(e)));
  await page.goto(url);
  await page.getByTestId("screen-changes").waitFor();
  return page;
}

const rows = (page) => page.locator('[data-testid="event-row"]');

/** The numeric part of the Changes screen's "N changes" line, once counted. */
async function eventCount(page) {
  const el = page.getByTestId("event-count");
  await page.waitForFunction(() => /\d+\s+changes?/.test(document.querySelector('[data-testid="event-count"]')?.textContent ?? ""), null, { timeout: WAIT });
  const text = await el.textContent();
  return Number(text.match(/([\d,\s\u202f\u00a0]+)\s+changes?/)[1].replace(/[^\d]/g, ""));
}

/** Selects the option of `select` whose value or text ends with `suffix`; returns its value. */
async function selectEndingWith(page, testid, suffix) {
  const sel = page.getByTestId(testid);
  await page.waitForFunction(
    ([id, s]) => [...(document.querySelector(`[data-testid="${id}"]`)?.options ?? [])].some((o) => o.value.endsWith(s)),
    [testid, suffix],
    { timeout: WAIT },
  );
  const value = await sel.evaluate((el, s) => [...el.options].find((o) => o.value.endsWith(s)).value, suffix);
  await sel.selectOption(value);
  return value;
}

async function openRecord(page, tableSuffix, id) {
  await page.getByTestId("open-record").click();
  await page.getByTestId("open-record-dialog").waitFor();
  await selectEndingWith(page, "open-record-table", tableSuffix);
  await page.getByTestId("open-record-key-id").fill(String(id));
  await page.getByTestId("open-record-go").click();
  await page.getByTestId("screen-record").waitFor();
  await page.locator('[data-testid="version-item"]').first().waitFor();
}

async function shot(page, name) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`) });
}

/** A raw HTTP request (Node's fetch will not send a foreign Host), bounded. */
function raw(method, path, headers = {}, body) {
  return new Promise((res, rej) => {
    const req = http.request({ host: "127.0.0.1", port, method, path, headers, timeout: 10_000 }, (r) => {
      let data = "";
      r.on("data", (c) => (data += c));
      r.on("end", () => res({ status: r.statusCode, headers: r.headers, body: data }));
    });
    req.on("timeout", () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.on("error", rej);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

describe("rowtrail serve in Chromium", () => {
  before(
    async () => {
      for (const [what, p] of [["rowtrail binary (cargo build -p rowtrail-cli)", BIN], ["built UI (cd ui && npm ci && npm run build)", join(UI_DIR, "index.html")], ["Chromium (apt-get install chromium)", CHROMIUM]]) {
        if (!existsSync(p)) throw new Error(`missing ${what}: ${p}`);
      }
      mkdirSync(SHOTS, { recursive: true });
      dataDir = mkdtempSync(join(tmpdir(), "rowtrail-e2e-"));
      server = await startServe(BIN, ["--data-dir", dataDir, "serve", "--demo", "--no-open", "--port", "0", "--ui-dir", UI_DIR]);
      ({ url, origin, port, token } = server);
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        timeout: 30_000,
        args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
      });
    },
    { timeout: 90_000 },
  );

  after(
    async () => {
      for (const p of pages) await p.close().catch(() => {});
      if (browser) await Promise.race([browser.close().catch(() => {}), new Promise((r) => setTimeout(r, 10_000))]);
      await stopServe(server?.child).catch(() => {});
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
    { timeout: 30_000 },
  );

  test("Changes lists the demo's events; table shp + operation update narrows the list", TEST, async () => {
    const page = await openApp();
    await rows(page).first().waitFor();
    const all = await eventCount(page);
    assert.ok(all >= 100, `the demo has hundreds of events, saw ${all}`);
    await shot(page, "changes");

    await selectEndingWith(page, "filter-table", "shp");
    await page.getByTestId("filter-op").selectOption("update");
    await page.waitForFunction(
      (n) => {
        const m = (document.querySelector('[data-testid="event-count"]')?.textContent ?? "").match(/([\d,\s\u202f\u00a0]+)\s+changes?/);
        return m && Number(m[1].replace(/[^\d]/g, "")) < n && /matching/.test(document.querySelector('[data-testid="event-count"]').textContent);
      },
      all,
      { timeout: WAIT },
    );
    const narrowed = await eventCount(page);
    assert.ok(narrowed > 0 && narrowed < all, `filtered ${narrowed} of ${all}`);
    await rows(page).first().waitFor();
    const seen = await rows(page).evaluateAll((els) => els.map((e) => ({ op: e.dataset.op, table: e.querySelector(".table")?.textContent?.trim() })));
    assert.ok(seen.length > 0);
    for (const r of seen) {
      assert.equal(r.op, "update");
      assert.match(r.table, /(^|\.)shp$/);
    }
    assert.match(page.url(), /table=/);
    assert.match(page.url(), /op=update/);
    await shot(page, "changes-filtered");
  });

  test("Record shp 1007: versions with st changing, two versions compared", TEST, async () => {
    const page = await openApp();
    await openRecord(page, "shp", 1007);
    await assert.doesNotReject(page.getByTestId("record-title").waitFor());
    assert.match(await page.getByTestId("record-title").textContent(), /1007/);
    const versions = page.locator('[data-testid="version-item"]');
    const n = await versions.count();
    assert.ok(n >= 3, `shp 1007 has a history, saw ${n} versions`);

    // Step through the versions (the list is short enough to be drawn whole) and note which change st.
    const numbers = await versions.evaluateAll((els) => els.map((e) => Number(e.dataset.version)));
    const stChanges = [];
    for (const v of numbers) {
      await page.locator(`[data-testid="version-item"][data-version="${v}"]`).click();
      await page.locator(`[data-testid="version-panel"][data-version="${v}"]`).waitFor();
      await page.getByTestId("field-changes").first().or(page.getByText("No change to show")).first().waitFor();
      const st = page.locator(`[data-testid="version-panel"][data-version="${v}"] [data-testid="field-change"][data-column="st"]`);
      if ((await st.count()) > 0) stChanges.push({ v, text: (await st.first().textContent()).trim() });
    }
    const updates = stChanges.filter((c) => c.v > 1);
    assert.ok(updates.length >= 2, `st changes in at least two later versions: ${JSON.stringify(stChanges)}`);
    await shot(page, "record");

    // Compare the first and the last version: st differs (the bad batch set X), so it shows.
    const lo = Math.min(...numbers);
    const hi = Math.max(...numbers);
    await page.locator(`[data-testid="version-item"][data-version="${lo}"] [data-testid="compare-pick"]`).check();
    await page.locator(`[data-testid="version-item"][data-version="${hi}"] [data-testid="compare-pick"]`).check();
    const panel = page.getByTestId("compare-panel");
    await panel.waitFor();
    assert.match(await panel.locator("h2").textContent(), new RegExp(`Version ${lo}\\s*→\\s*version ${hi}`));
    await panel.locator('[data-testid="field-change"][data-column="st"]').waitFor();
    assert.match(page.url(), /from=\d+/);
    await shot(page, "record-compare");
    await page.getByTestId("compare-close").click();
    await panel.waitFor({ state: "detached" });
  });

  test("Transaction of the bad batch (batch-job@example.com): 40 updates of shp", TEST, async () => {
    const page = await openApp();
    await rows(page).first().waitFor();
    const actor = page.getByTestId("filter-actor");
    await actor.fill("batch-job@example.com");
    await actor.press("Enter");
    await page.waitForFunction(() => /matching/.test(document.querySelector('[data-testid="event-count"]')?.textContent ?? ""), null, { timeout: WAIT });
    assert.equal(await eventCount(page), 40);
    await rows(page).first().waitFor();
    const actors = await rows(page).evaluateAll((els) => els.map((e) => e.querySelector(".actor")?.textContent?.trim()));
    for (const a of actors) assert.match(a, /batch-job/);

    await rows(page).first().getByTestId("txn-link").click();
    await page.getByTestId("screen-transaction").waitFor();
    const counts = page.getByTestId("txn-counts");
    await counts.waitFor();
    const cells = await page.locator('[data-testid="txn-count"]').evaluateAll((els) =>
      els.map((e) => ({ table: e.dataset.table, op: e.dataset.op, count: e.querySelector("td.num")?.textContent?.trim() })),
    );
    assert.equal(cells.length, 1, JSON.stringify(cells));
    assert.match(cells[0].table, /(^|\.)shp$/);
    assert.equal(cells[0].op, "update");
    assert.equal(cells[0].count, "40");
    assert.match(await page.getByTestId("txn-total").textContent(), /\b40\b/);
    await page.locator('[data-testid="txn-event"][data-op="update"]').first().waitFor();
    await shot(page, "transaction");
  });

  test("A value holding <img onerror> shows as text and runs nothing", TEST, async () => {
    const db = join(dataDir, "demo.sqlite");
    const sql = `UPDATE shp SET notes = '${XSS.replace(/'/g, "''")}' WHERE id = 1007;`;
    execFileSync(SQLITE3, ["-cmd", ".timeout 5000", db, sql], { timeout: 10_000 });

    const page = await openApp();
    // The watcher (live tail) picks the change up; wait for it in the Changes list.
    const search = page.getByTestId("filter-search");
    await search.fill("onerror");
    await search.press("Enter");
    const row = rows(page).first();
    // Live tail polls; if the first answer predates the capture, the refetch brings it in.
    await row.waitFor({ timeout: 20_000 });

    await openRecord(page, "shp", 1007);
    const versions = page.locator('[data-testid="version-item"]');
    const newest = Math.max(...(await versions.evaluateAll((els) => els.map((e) => Number(e.dataset.version)))));
    await page.locator(`[data-testid="version-item"][data-version="${newest}"]`).click();
    const notes = page.locator(`[data-testid="version-panel"][data-version="${newest}"] [data-testid="field-change"][data-column="notes"]`);
    await notes.waitFor();
    await page.waitForFunction(
      (s) => [...document.querySelectorAll('[data-testid="field-change"][data-column="notes"]')].some((e) => e.textContent.includes("onerror=window.__xss=1")),
      XSS,
      { timeout: WAIT },
    );
    await page.waitForTimeout(300); // give a broken renderer the time to fire onerror
    assert.equal(await page.evaluate(() => typeof window.__xss), "undefined");
    assert.equal(await page.locator('img[src="x"]').count(), 0);
    assert.equal(await page.evaluate(() => document.querySelectorAll("img[onerror]").length), 0);
    await shot(page, "record-hostile-value");

    // sqlite3 did not number its transaction: the change's group is a statement group, and the
    // Transaction screen says so rather than calling it a transaction.
    const list = await openApp();
    await list.getByTestId("filter-search").fill("onerror");
    await list.getByTestId("filter-search").press("Enter");
    await rows(list).first().waitFor({ timeout: 20_000 });
    await rows(list).first().getByTestId("txn-link").click();
    await list.getByTestId("screen-transaction").waitFor();
    await list.getByTestId("txn-grouping-note").waitFor();
    assert.match(await list.getByTestId("txn-title").textContent(), /^\s*Statement group\b/);
  });

  test("Sources lists the demo source", TEST, async () => {
    const page = await openApp();
    await page.getByTestId("nav-sources").click();
    await page.getByTestId("screen-sources").waitFor();
    const row = page.locator('[data-testid="source-row"][data-source="demo"]');
    await row.waitFor();
    // `serve` watches the demo: once caught up it is live, never in error.
    await page.waitForFunction(() => document.querySelector('[data-testid="source-row"][data-source="demo"]')?.dataset.state === "live", null, { timeout: WAIT });
    assert.match(await row.getByTestId("source-state").textContent(), /\S/);
    await shot(page, "sources");
  });

  test("Export saves exactly the list, in its order, every row", TEST, async () => {
    const page = await openApp();
    await rows(page).first().waitFor();
    const total = await eventCount(page);
    const shown = await rows(page).evaluateAll((els) => els.map((e) => Number(e.dataset.id)));
    assert.ok(shown.length > 5);
    // Newest first (the default): the file starts with the rows at the top of the list.
    const [csv] = await Promise.all([page.waitForEvent("download"), page.getByTestId("export-csv").click()]);
    assert.equal(csv.suggestedFilename(), "events.csv");
    const lines = readFileSync(await csv.path(), "utf8").split("\r\n").filter((l) => l);
    assert.equal(lines.length, total + 1, "a header and every change the list counts");
    const ids = lines.slice(1).map((l) => Number(l.split(",")[0]));
    assert.deepEqual(ids.slice(0, shown.length), shown, "in the list's order");
    assert.ok(ids.every((id, i) => i === 0 || id < ids[i - 1]), "newest first throughout");
    await page.getByTestId("export-note").waitFor();
    assert.match(await page.getByTestId("export-note").textContent(), new RegExp(`${total.toLocaleString("en-US")} changes, newest first`));
    // Oldest first and filtered, as JSON Lines.
    await page.getByTestId("order-oldest").click();
    await page.getByTestId("filter-op").selectOption("delete");
    await page.waitForFunction(() => /matching/.test(document.querySelector('[data-testid="event-count"]')?.textContent ?? ""), null, { timeout: WAIT });
    const deletes = await eventCount(page);
    await rows(page).first().waitFor();
    const first = Number(await rows(page).first().getAttribute("data-id"));
    const [json] = await Promise.all([page.waitForEvent("download"), page.getByTestId("export-json").click()]);
    const objs = readFileSync(await json.path(), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    assert.equal(objs.length, deletes);
    assert.equal(objs[0].id, first);
    assert.ok(objs.every((o, i) => o.op === "delete" && (i === 0 || o.id > objs[i - 1].id)));
  });

  test("Back from a record returns to the same place in the list, selection included", TEST, async () => {
    const page = await openApp();
    await rows(page).first().waitFor();
    const list = page.getByTestId("changes-list");
    await list.evaluate((el) => (el.scrollTop = 4000));
    await page.waitForFunction(() => [...document.querySelectorAll('[data-testid="event-row"]')].some((r) => Number(r.dataset.index) > 150), null, { timeout: WAIT });
    const row = page.locator('[data-testid="event-row"][data-index="150"]');
    const id = await row.getAttribute("data-id");
    await row.locator('[data-testid="row-link"]').click();
    await page.getByTestId("screen-record").waitFor();
    await page.goBack();
    await page.getByTestId("screen-changes").waitFor();
    await page.locator(`[data-testid="event-row"][data-id="${id}"][aria-selected="true"]`).waitFor();
    const top = await list.evaluate((el) => el.scrollTop);
    assert.ok(Math.abs(top - 4000) <= 2, `scrolled back to 4000, is at ${top}`);
    const box = await page.locator(`[data-testid="event-row"][data-id="${id}"]`).boundingBox();
    const view = await list.boundingBox();
    assert.ok(box.y >= view.y && box.y + box.height <= view.y + view.height, "the selected row is on screen");
  });

  test("Enter on a focused button presses the button, not the selected row", TEST, async () => {
    const page = await openApp();
    await rows(page).first().waitFor();
    await page.getByTestId("changes-list").focus();
    await page.keyboard.press("j"); // select the first row
    await page.locator('[data-testid="event-row"][aria-selected="true"]').waitFor();
    await page.getByTestId("order-oldest").focus();
    await page.keyboard.press("Enter");
    await page.waitForFunction(() => /order=oldest/.test(location.hash), null, { timeout: WAIT });
    assert.equal(await page.getByTestId("screen-changes").count(), 1, "still on Changes");
    await page.getByTestId("open-record").focus();
    await page.keyboard.press("Enter");
    await page.getByTestId("open-record-dialog").waitFor();
    assert.equal(await page.getByTestId("screen-changes").count(), 1);
  });

  test("Links open in a new tab and survive a reload; other pages still cannot call the API", TEST, async () => {
    const page = await openApp();
    await rows(page).first().waitFor();
    // Rows are real links; a Ctrl-click on a transaction opens it in a new tab that works.
    const href = await rows(page).first().getByTestId("row-link").getAttribute("href");
    assert.match(href, /^#\/(record|txn)\//);
    const [tab] = await Promise.all([page.context().waitForEvent("page"), rows(page).first().getByTestId("txn-link").click({ modifiers: ["Control"] })]);
    pages.push(tab);
    await tab.getByTestId("screen-transaction").waitFor();
    await tab.getByTestId("txn-counts").waitFor();
    // A record link typed into a new tab, without the token.
    const rec = await page.context().newPage();
    pages.push(rec);
    await rec.goto(`${origin}/${href}`);
    await rec.locator('[data-testid="version-item"], [data-testid="txn-counts"]').first().waitFor();
    // A reload keeps working.
    await page.reload();
    await rows(page).first().waitFor();
    // The cookie that carries it is out of the page scripts' reach.
    assert.doesNotMatch(await page.evaluate(() => document.cookie), new RegExp(token));
    const cookies = await page.context().cookies(origin + "/api/");
    const c = cookies.find((x) => x.name === `rowtrail_${port}`);
    assert.ok(c && c.httpOnly && c.sameSite === "Strict" && c.path === "/api", JSON.stringify(cookies));
    // Another page (another port of this machine is the same site) is refused, cookie or not.
    const cookie = `${c.name}=${c.value}`;
    for (const headers of [{ "sec-fetch-site": "same-site" }, { "sec-fetch-site": "cross-site" }, { origin: "http://127.0.0.1:1" }]) {
      const r = await raw("POST", "/api/list_tables", { host: `127.0.0.1:${port}`, cookie, "content-type": "application/json", ...headers }, "{}");
      assert.equal(r.status, 403, JSON.stringify(headers));
    }
  });

  test("Every filter is visible and removable: a transaction's, a removed source's", TEST, async () => {
    const page = await openApp();
    await rows(page).first().waitFor();
    await rows(page).first().getByTestId("txn-link").click();
    await page.getByTestId("txn-counts").waitFor();
    const txid = await page.getByTestId("txn-title").locator(".mono").textContent();
    await page.locator('[data-testid="txn-count"] a').first().click();
    await page.getByTestId("screen-changes").waitFor();
    const chip = page.getByTestId("filter-txid");
    await chip.waitFor();
    assert.match(await chip.textContent(), new RegExp(`Transaction ${txid}`));
    await page.getByTestId("filter-txid-remove").click();
    await chip.waitFor({ state: "detached" });
    assert.doesNotMatch(page.url(), /txid=/);

    await page.goto(`${origin}/#/changes?source=gone`);
    await page.getByTestId("changes-missing-filter").waitFor();
    assert.match(await page.getByTestId("filter-source").evaluate((el) => el.selectedOptions[0].textContent), /gone \(not in this workspace\)/);
    await page.getByTestId("remove-missing-filter").click();
    await rows(page).first().waitFor();
    assert.doesNotMatch(page.url(), /source=/);
  });

  test("Search box and list agree; the 3-character minimum is said", TEST, async () => {
    const page = await openApp();
    await rows(page).first().waitFor();
    const search = page.getByTestId("filter-search");
    await search.fill("Monday");
    await search.press("Enter");
    await page.waitForFunction(() => /matching/.test(document.querySelector('[data-testid="event-count"]')?.textContent ?? ""), null, { timeout: WAIT });
    const monday = await eventCount(page);
    assert.ok(monday > 0);
    await search.fill("Mo");
    await search.press("Enter");
    await page.waitForFunction(() => /q=Mo(&|$)/.test(location.hash), null, { timeout: WAIT });
    // Either the list follows "Mo" (a plain scan) or it says why it cannot; never "Monday" still.
    await page.waitForFunction(
      (n) => {
        const t = document.querySelector('[data-testid="event-count"]')?.textContent ?? "";
        const m = t.match(/([\d,]+)\s+changes?/);
        return document.querySelector('[data-testid="changes-search-short"]') || (m && Number(m[1].replace(/,/g, "")) > n);
      },
      monday,
      { timeout: WAIT },
    );
    if ((await page.getByTestId("changes-search-short").count()) > 0) {
      assert.match(await page.getByTestId("changes-search-short").textContent(), /3 characters/);
      assert.equal(await rows(page).count(), 0);
    }
  });

  test("A column filter ignores case; one that matches nothing is an empty list with a hint", TEST, async () => {
    const page = await openApp();
    await rows(page).first().waitFor();
    const column = page.getByTestId("filter-column");
    await column.fill("st");
    await column.press("Enter");
    await page.waitForFunction(() => /matching/.test(document.querySelector('[data-testid="event-count"]')?.textContent ?? ""), null, { timeout: WAIT });
    const lower = await eventCount(page);
    assert.ok(lower > 0);
    await column.fill("ST");
    await column.press("Enter");
    await page.waitForFunction(() => /column=ST/.test(location.hash), null, { timeout: WAIT });
    await rows(page).first().waitFor();
    assert.equal(await eventCount(page), lower);
    await column.fill("nope");
    await column.press("Enter");
    const empty = page.getByTestId("changes-empty-filtered");
    await empty.waitFor();
    assert.match(await empty.textContent(), /No captured table has a column named “nope”/);
    assert.doesNotMatch(await page.locator("body").textContent(), /list_tables|filter\.column/);
    assert.equal(await eventCount(page), 0);
    assert.equal(await page.locator('[role="alert"], .banner.error').count(), 0);
  });

  test("API refusals: token, Host, Origin, CORS preflight", TEST, async () => {
    const api = `${origin}/api/list_tables`;
    const post = (headers) => fetch(api, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: "{}", signal: AbortSignal.timeout(10_000) });

    const ok = await post({ authorization: `Bearer ${token}` });
    assert.equal(ok.status, 200, "the right token is accepted (so the refusals below are real)");
    assert.ok(Array.isArray((await ok.json()).tables));

    const none = await post({});
    assert.equal(none.status, 401, "no token");
    assert.equal((await none.json()).code !== undefined, true);
    const wrong = await post({ authorization: `Bearer ${"0".repeat(64)}` });
    assert.equal(wrong.status, 401, "wrong token");
    const wrongQuery = await fetch(`${origin}/api/events?token=${"1".repeat(64)}`, { signal: AbortSignal.timeout(10_000) });
    assert.equal(wrongQuery.status, 401, "wrong token on the event stream");

    const auth = { authorization: `Bearer ${token}`, "content-type": "application/json" };
    const foreignHost = await raw("POST", "/api/list_tables", { ...auth, host: `evil.example:${port}` }, "{}");
    assert.ok(foreignHost.status >= 400 && foreignHost.status < 500, `foreign Host refused, got ${foreignHost.status}`);
    assert.equal(foreignHost.status, 421);
    const rebound = await raw("POST", "/api/list_tables", { ...auth, host: `127.0.0.1:${port + 1}` }, "{}");
    assert.equal(rebound.status, 421, "Host with another port refused");
    const staticForeignHost = await raw("GET", "/", { host: "evil.example" });
    assert.equal(staticForeignHost.status, 421, "foreign Host refused for static files too");

    const foreignOrigin = await raw("POST", "/api/list_tables", { ...auth, host: `127.0.0.1:${port}`, origin: "http://evil.example" }, "{}");
    assert.equal(foreignOrigin.status, 403, "foreign Origin refused");
    assert.equal(foreignOrigin.headers["access-control-allow-origin"], undefined);
    const sameOrigin = await raw("POST", "/api/list_tables", { ...auth, host: `127.0.0.1:${port}`, origin }, "{}");
    assert.equal(sameOrigin.status, 200, "the served origin is accepted");

    for (const o of ["http://evil.example", origin]) {
      const pre = await raw("OPTIONS", "/api/list_tables", {
        host: `127.0.0.1:${port}`,
        origin: o,
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization, content-type",
      });
      assert.equal(pre.headers["access-control-allow-origin"], undefined, `preflight from ${o}: no CORS grant`);
      assert.equal(pre.headers["access-control-allow-headers"], undefined);
      assert.equal(pre.headers["access-control-allow-methods"], undefined);
    }
    const preEvents = await raw("OPTIONS", "/api/events", { host: `127.0.0.1:${port}`, origin: "http://evil.example", "access-control-request-method": "GET" });
    assert.equal(preEvents.headers["access-control-allow-origin"], undefined);
  });

  test("no uncaught errors in the pages", TEST, () => {
    assert.deepEqual(browserErrors, []);
  });
});

describe("a restarted rowtrail serve", () => {
  let dir;
  let srv;
  let b;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "rowtrail-e2e-restart-"));
    b = await chromium.launch({ executablePath: CHROMIUM, headless: true, timeout: 30_000, args: ["--no-sandbox", "--disable-gpu", "--no-first-run"] });
  }, { timeout: 60_000 });
  after(async () => {
    if (b) await Promise.race([b.close().catch(() => {}), new Promise((r) => setTimeout(r, 10_000))]);
    await stopServe(srv?.child).catch(() => {});
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, { timeout: 30_000 });

  test("keeps its token, the page says Disconnected meanwhile and reconnects; --new-token rotates it", { timeout: 60_000 }, async () => {
    const serve = (extra = []) => startServe(BIN, ["--data-dir", dir, "serve", "--no-open", "--ui-dir", UI_DIR, ...extra]);
    srv = await serve(["--port", "0"]);
    const { port: p, token: t1 } = srv;
    assert.equal(statSync(join(dir, "serve-token")).mode & 0o777, 0o600, "the token file is the user's only");
    const page = await b.newPage();
    page.setDefaultTimeout(WAIT);
    await page.goto(srv.url);
    await page.getByTestId("changes-empty").waitFor();
    await page.waitForFunction(() => document.querySelector('[data-testid="stream-state"]')?.dataset.state === "open", null, { timeout: WAIT });

    await stopServe(srv.child);
    await page.getByTestId("disconnected").waitFor();
    assert.match(await page.getByTestId("stream-state").textContent(), /Disconnected/);
    // A new filter while the server is down: no endless "Counting…" or spinner.
    await page.getByTestId("filter-op").selectOption("delete");
    await page.waitForFunction(() => /Not counted/.test(document.querySelector('[data-testid="event-count"]')?.textContent ?? ""), null, { timeout: WAIT });
    assert.equal(await page.locator(".listbar .spinner").count(), 0, "no spinner");

    srv = await serve(["--port", String(p)]);
    assert.equal(srv.token, t1, "the same token after a restart");
    for (let i = 0; i < 50 && !/kept/.test(srv.log()); i++) await new Promise((r) => setTimeout(r, 100));
    assert.match(srv.log(), /token is the one this workspace kept/);
    await page.waitForFunction(() => document.querySelector('[data-testid="stream-state"]')?.dataset.state === "open", null, { timeout: 20_000 });
    await page.getByTestId("changes-empty-filtered").waitFor({ timeout: 20_000 });
    await page.reload();
    await page.getByTestId("changes-empty-filtered").waitFor();

    await stopServe(srv.child);
    srv = await serve(["--port", String(p), "--new-token"]);
    assert.notEqual(srv.token, t1, "--new-token makes another");
    assert.equal(readFileSync(join(dir, "serve-token"), "utf8").trim(), srv.token);
    await page.close();
  });
});
