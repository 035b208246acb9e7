import { afterEach, describe, expect, it } from "vitest";
import { render } from "solid-js/web";
import { SourcesScreen } from "../src/screens/sources/SourcesScreen";
import { RouterContext } from "../src/app/context";
import { createRouter } from "../src/router";
import { setTransport } from "../src/transport";
import { queryClient } from "../src/query";
import type { SourceInfo } from "../src/api";

function source(over: Partial<SourceInfo>): SourceInfo {
  return {
    name: "prod",
    kind: "postgres",
    target: "postgres://ana@db.example.com:5432/shop",
    position: "0/16B3748",
    paused: false,
    state: "error",
    message: "could not connect to prod: password authentication failed for user \"ana\"",
    events_stored: 12,
    events_per_sec: null,
    behind: null,
    task: null,
    slot: null,
    warnings: [],
    ...over,
  };
}

let dispose: (() => void) | null = null;
afterEach(() => {
  dispose?.();
  dispose = null;
  document.body.innerHTML = "";
  setTransport(null);
  queryClient.invalidateAll();
  location.hash = "";
});

const tick = () => new Promise((r) => setTimeout(r, 0));
async function until<T>(f: () => T | null | undefined): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const v = f();
    if (v) return v;
    await tick();
  }
  throw new Error("timed out");
}

function mount(sources: SourceInfo[], calls: [string, unknown][]) {
  setTransport({
    kind: "mock",
    call: async (c, args) => {
      calls.push([c, args]);
      if (c === "list_sources") return { sources };
      if (c === "workspace_info") return null;
      return {};
    },
    connect: () => () => {},
  });
  location.hash = "#/sources";
  const el = document.createElement("div");
  document.body.appendChild(el);
  dispose = render(() => (
    <RouterContext.Provider value={createRouter()}>
      <SourcesScreen />
    </RouterContext.Provider>
  ), el);
}

describe("Sources screen", () => {
  it("asks for a PostgreSQL password and starts capture with it (Enter confirms)", async () => {
    const calls: [string, unknown][] = [];
    mount([source({}), source({ name: "app", kind: "sqlite", target: "/tmp/app.db" })], calls);
    const rows = await until(() => {
      const r = document.querySelectorAll("[data-testid=source-row]");
      return r.length === 2 ? r : null;
    });
    // Only the PostgreSQL source that cannot connect offers a password; SQLite needs none.
    const [pg, lite] = [rows.item(0), rows.item(1)];
    expect(pg.querySelector("[data-testid=source-password]")).not.toBeNull();
    expect(lite.querySelector("[data-testid=source-password]")).toBeNull();
    (pg.querySelector("[data-testid=source-password]") as HTMLButtonElement).click();
    const input = await until(() => document.querySelector("[data-testid=password-input]") as HTMLInputElement | null);
    expect(input.type).toBe("password");
    input.value = "s3cret";
    input.dispatchEvent(new InputEvent("input", { bubbles: true }));
    input.form!.requestSubmit();
    await until(() => calls.find((c) => c[0] === "watch_source"));
    expect(calls.find((c) => c[0] === "watch_source")![1]).toEqual({ name: "prod", password: "s3cret" });
    await until(() => (document.querySelector("[data-testid=password-dialog]") ? null : true));
  });

  it("resumes a paused source with the password", async () => {
    const calls: [string, unknown][] = [];
    mount([source({ paused: true, state: "paused", message: null })], calls);
    const button = await until(() => document.querySelector("[data-testid=source-row][data-state=paused] [data-testid=source-password]") as HTMLButtonElement | null);
    button.click();
    const input = await until(() => document.querySelector("[data-testid=password-input]") as HTMLInputElement | null);
    input.value = "pw";
    input.dispatchEvent(new InputEvent("input", { bubbles: true }));
    (document.querySelector("[data-testid=confirm-ok]") as HTMLButtonElement).click();
    await until(() => calls.find((c) => c[0] === "resume_source"));
    expect(calls.find((c) => c[0] === "resume_source")![1]).toEqual({ name: "prod", password: "pw" });
  });

  it("shows what was changed on the server behind Rowtrail's back", async () => {
    const problem = "table public.b is no longer in publication rowtrail_prod (altered outside Rowtrail): its changes are not captured.";
    const slot = {
      slot: "rowtrail_prod",
      own: { slot: "rowtrail_prod", active: true, wal_status: "reserved", retained_bytes: 1024, lag_bytes: 0, confirmed_flush: "0/1", lost: false, warn: false },
      others: [],
      error: null,
      warn_threshold_bytes: 1_073_741_824,
      capture_problems: [problem],
    };
    mount([source({ state: "live", message: null, slot })], []);
    const banner = await until(() => document.querySelector("[data-testid=capture-problems]"));
    expect(banner.textContent).toContain("prod: changed on the server");
    expect(banner.textContent).toContain(problem);
  });
});

describe("Sources screen, lost slot", () => {
  it("offers Reset…, shows the SQL, and resets with the statements shown; lists the table notes", async () => {
    const calls: [string, unknown][] = [];
    const plan = {
      name: "prod",
      slot: "rowtrail_prod",
      slot_state: "lost",
      from_position: "0/16B3748",
      cached_events: 12,
      statements: ["SELECT pg_drop_replication_slot('rowtrail_prod')", "SELECT pg_create_logical_replication_slot('rowtrail_prod', 'pgoutput')"],
    };
    const lost = { slot: "rowtrail_prod", active: false, wal_status: "lost", retained_bytes: null, lag_bytes: null, confirmed_flush: null, lost: true, warn: true };
    const src = source({
      slot: { slot: "rowtrail_prod", own: lost, others: [], error: null, warn_threshold_bytes: 1 << 30 } as unknown as SourceInfo["slot"],
      warnings: ["public.logs has no key: inserts only (without a primary key or replica identity its updates and deletes cannot be published)"],
    });
    setTransport({
      kind: "mock",
      call: async (c, args) => {
        calls.push([c, args]);
        if (c === "list_sources") return { sources: [src] };
        if (c === "plan_reset_source") return plan;
        if (c === "workspace_info") return null;
        return {};
      },
      connect: () => () => {},
    });
    location.hash = "#/sources";
    const el = document.createElement("div");
    document.body.appendChild(el);
    dispose = render(() => (
      <RouterContext.Provider value={createRouter()}>
        <SourcesScreen />
      </RouterContext.Provider>
    ), el);
    const notes = await until(() => document.querySelector("[data-testid=table-warnings]"));
    expect(notes.textContent).toContain("no key: inserts only");
    expect(document.querySelector("[data-testid=wal-warning]")!.textContent).toContain("Reset re-creates it and keeps the cached events");
    (await until(() => document.querySelector<HTMLButtonElement>("[data-testid=reset-slot]"))).click();
    const dialog = await until(() => document.querySelector("[data-testid=reset-dialog]"));
    expect(dialog.textContent).toContain("pg_create_logical_replication_slot");
    expect(dialog.textContent).toContain("12 cached events");
    const confirm = Array.from(dialog.querySelectorAll("button")).find((b) => b.textContent?.includes("Re-create the slot"))!;
    confirm.click();
    await until(() => calls.find((c) => c[0] === "reset_source"));
    expect(calls.find((c) => c[0] === "reset_source")![1]).toEqual({ name: "prod", statements: plan.statements });
  });
});
