import { createSignal, For, Match, Show, Switch } from "solid-js";
import type { ConnectionTest, PgPlanInfo, PgSourceRequest, PgTable } from "../api";
import { call } from "../transport";
import { Modal } from "./Modal";
import { ErrorBanner } from "./ErrorBanner";
import { Spinner } from "./Spinner";

type Kind = "postgres" | "sqlite";
type Step = "connect" | "review";

const NAME_RE = /^[A-Za-z][A-Za-z0-9_-]{0,39}$/;

function qualified(t: PgTable) {
  return t.qualified || `${t.schema}.${t.name}`;
}

/**
 * Adding a source. PostgreSQL: URL → "Test connection" → pick tables (those without a replica
 * identity are flagged: inserts only) → review exactly what will be created on the server
 * (slot, publications, tables, SQL) → consent → Create. SQLite: a file path.
 */
export function AddSourceDialog(props: { onClose: () => void; onAdded: (name: string, warnings: string[]) => void }) {
  const [kind, setKind] = createSignal<Kind>("postgres");
  const [step, setStep] = createSignal<Step>("connect");
  const [name, setName] = createSignal("");
  const [url, setUrl] = createSignal("");
  const [password, setPassword] = createSignal("");
  const [path, setPath] = createSignal("");
  const [snapshot, setSnapshot] = createSignal(false);
  const [test, setTest] = createSignal<ConnectionTest | null>(null);
  const [picked, setPicked] = createSignal<Set<string>>(new Set());
  const [plan, setPlan] = createSignal<PgPlanInfo | null>(null);
  const [consent, setConsent] = createSignal(false);
  const [busy, setBusy] = createSignal<null | "test" | "plan" | "create">(null);
  const [error, setError] = createSignal<{ title: string; error: unknown } | null>(null);

  const nameProblem = () =>
    !name() ? "Give the source a name." : NAME_RE.test(name()) ? null : "Use letters, digits, _ or - (starting with a letter, at most 40).";

  const run = async <T,>(what: NonNullable<ReturnType<typeof busy>>, title: string, f: () => Promise<T>): Promise<T | undefined> => {
    setBusy(what);
    setError(null);
    try {
      return await f();
    } catch (e) {
      setError({ title, error: e });
      return undefined;
    } finally {
      setBusy(null);
    }
  };

  const pgArgs = (): PgSourceRequest => ({
    name: name(),
    url: url().trim(),
    password: password() || null,
    tables: [...picked()],
    snapshot: snapshot(),
  });

  const testConnection = async () => {
    setTest(null);
    setPlan(null);
    const r = await run("test", "Could not connect", () => call("test_connection", { url: url().trim(), password: password() || null }));
    if (r && !r.reachable) {
      setError({ title: `Could not connect to ${r.target}`, error: { code: "source_error", message: r.error ?? "the server did not answer" } });
    } else if (r) {
      setTest(r);
      setPicked(new Set(r.tables.filter((t) => t.can_publish).map(qualified)));
    }
  };

  const review = async () => {
    const r = await run("plan", "Could not plan the source", () => call("plan_pg_source", pgArgs()));
    if (r) {
      setPlan(r);
      setConsent(false);
      setStep("review");
    }
  };

  const create = async () => {
    const p = plan();
    if (!p) return;
    const r = await run("create", "Could not create the source", () => call("create_pg_source", { ...pgArgs(), statements: p.statements }));
    if (r) props.onAdded(r.source.name, r.warnings);
  };

  const addSqlite = async () => {
    const r = await run("create", "Could not add the SQLite database", () => call("add_sqlite_source", { name: name(), path: path().trim() }));
    if (r) props.onAdded(r.source.name, r.warnings);
  };

  const togglePick = (t: string, on: boolean) => {
    const s = new Set(picked());
    if (on) s.add(t);
    else s.delete(t);
    setPicked(s);
  };

  const footer = () => (
    <Switch>
      <Match when={kind() === "sqlite"}>
        <button onClick={props.onClose}>Cancel</button>
        <button class="primary" disabled={!!nameProblem() || !path().trim() || busy() !== null} onClick={addSqlite} data-testid="sqlite-add">
          <Show when={busy() === "create"}>
            <Spinner />
          </Show>
          Install triggers and add
        </button>
      </Match>
      <Match when={step() === "connect"}>
        <span class="left">
          <Show when={test()}>{(t) => <>{picked().size} of {t().tables.length} tables selected</>}</Show>
        </span>
        <button onClick={props.onClose}>Cancel</button>
        <button
          class="primary"
          disabled={!test() || (test()?.problems.length ?? 0) > 0 || picked().size === 0 || !!nameProblem() || busy() !== null}
          title={(test()?.problems.length ?? 0) > 0 ? "Fix the problems listed first, then test the connection again" : ""}
          onClick={review}
          data-testid="pg-review"
        >
          <Show when={busy() === "plan"}>
            <Spinner />
          </Show>
          Review what will be created →
        </button>
      </Match>
      <Match when={step() === "review"}>
        <button class="left-btn" onClick={() => setStep("connect")} disabled={busy() !== null}>
          ← Back
        </button>
        <span class="s-flex-1" />
        <button onClick={props.onClose} disabled={busy() !== null}>
          Cancel
        </button>
        <button class="primary" disabled={!consent() || busy() !== null} onClick={create} data-testid="pg-create">
          <Show when={busy() === "create"}>
            <Spinner />
          </Show>
          {busy() === "create" ? "Creating…" : "Create"}
        </button>
      </Match>
    </Switch>
  );

  return (
    <Modal title="Add a source" onClose={() => busy() !== "create" && props.onClose()} testid="add-source-dialog" footer={footer()}>
      <div class="tabs" role="tablist">
        <button role="tab" aria-selected={kind() === "postgres"} onClick={() => setKind("postgres")} disabled={step() === "review"} data-testid="tab-postgres">
          PostgreSQL
        </button>
        <button role="tab" aria-selected={kind() === "sqlite"} onClick={() => setKind("sqlite")} disabled={step() === "review"} data-testid="tab-sqlite">
          SQLite file
        </button>
      </div>
      <label class="field">
        Name
        <input
          value={name()}
          onInput={(e) => {
            setName(e.currentTarget.value);
            setError(null);
          }} placeholder="prod" disabled={step() === "review"} data-testid="source-name" data-autofocus />
        <span class="hint">{name() && nameProblem() ? nameProblem() : "How Rowtrail refers to this source (also names its replication slot)."}</span>
      </label>
      <Switch>
        <Match when={kind() === "sqlite"}>
          <label class="field">
            Database file
            <input
              value={path()}
              onInput={(e) => {
                setPath(e.currentTarget.value);
                setError(null);
              }}
              placeholder="/home/ana/app.db" class="mono" data-testid="sqlite-path" />
            <span class="hint">
              Rowtrail installs triggers on the tables and a <code>_rowtrail_log</code> table inside this file; removing the source can take them out again.
            </span>
          </label>
        </Match>
        <Match when={step() === "connect"}>
          <label class="field">
            Connection URL
            <input
              value={url()}
              onInput={(e) => {
                setUrl(e.currentTarget.value);
                setTest(null);
                setError(null);
              }}
              placeholder="postgres://ana@db.example.com:5432/shop?sslmode=verify-full"
              class="mono"
              data-testid="pg-url"
            />
            <span class="hint">A role with REPLICATION that owns the tables; the server needs wal_level = logical. A password in the URL is used, never stored.</span>
          </label>
          <label class="field">
            Password <span class="hint">(optional; used for this session only, never stored)</span>
            <input
              type="password"
              value={password()}
              onInput={(e) => {
                setPassword(e.currentTarget.value);
                setError(null);
              }} data-testid="pg-password" autocomplete="off" />
          </label>
          <div>
            <button onClick={testConnection} disabled={!url().trim() || busy() !== null} data-testid="pg-test">
              <Show when={busy() === "test"}>
                <Spinner />
              </Show>
              {busy() === "test" ? "Connecting…" : "Test connection"}
            </button>
            <Show when={test()}>
              {(t) => (
                <span class="state state-live s-ml-10px" data-testid="pg-test-ok">
                  Connected to {t().target} — PostgreSQL {t().server_version ?? "?"}
                </span>
              )}
            </Show>
          </div>
          <Show when={test()}>
            {(t) => (
              <>
                <Show when={t().existing_slots.length}>
                  <div class="muted s-fs-12px">
                    Rowtrail slots already on this server: {t().existing_slots.map((x) => x.slot).join(", ")}
                  </div>
                </Show>
                <For each={t().problems}>
                  {(p) => (
                    <div class="banner warn">
                      <span class="banner-icon">⚠</span>
                      <div class="banner-body">
                        <div class="banner-title">{p.problem}</div>
                        <div class="banner-msg mono">{p.fix}</div>
                      </div>
                    </div>
                  )}
                </For>
                <div>
                  <div class="s-d-flex_ai-center_gap-8px_mb-6px">
                    <strong>Tables to capture</strong>
                    <span class="s-flex-1" />
                    <button class="small ghost" onClick={() => setPicked(new Set(t().tables.filter((x) => x.can_publish).map(qualified)))}>
                      All
                    </button>
                    <button class="small ghost" onClick={() => setPicked(new Set<string>())}>
                      None
                    </button>
                  </div>
                  <Show when={t().tables.length} fallback={<div class="muted">The server has no tables this role can publish.</div>}>
                    <div class="table-pick" data-testid="table-picker">
                      <For each={t().tables}>
                        {(tb) => (
                          <label
                            data-testid="table-option"
                            data-table={qualified(tb)}
                            data-replica-identity={String(tb.has_replica_identity)}
                            title={tb.note ?? ""}
                          >
                            <input
                              type="checkbox"
                              checked={picked().has(qualified(tb))}
                              disabled={!tb.can_publish}
                              onChange={(e) => togglePick(qualified(tb), e.currentTarget.checked)}
                            />
                            <span class="mono">{qualified(tb)}</span>
                            <Show
                              when={tb.can_publish}
                              fallback={
                                <span class="badge" title={tb.note ?? "The connected role neither owns this table nor is a superuser, so it cannot publish it."}>
                                  not owned: cannot publish
                                </span>
                              }
                            >
                              <Show
                                when={!tb.has_replica_identity}
                                fallback={<span class="subtle s-fs-11_5px">replica identity {tb.replica_identity}</span>}
                              >
                                <span
                                  class="badge inferred"
                                  data-testid="no-replica-identity"
                                  title={
                                    (tb.note ? tb.note + ". " : "") +
                                    "Without a primary key or replica identity, publishing updates and deletes would make every UPDATE/DELETE on this table fail on the server, so only its inserts are captured."
                                  }
                                >
                                  ⚠ no replica identity: inserts only
                                </span>
                              </Show>
                            </Show>
                          </label>
                        )}
                      </For>
                    </div>
                  </Show>
                </div>
                <label class="check">
                  <input type="checkbox" checked={snapshot()} onChange={(e) => setSnapshot(e.currentTarget.checked)} data-testid="pg-snapshot" />
                  Also record every current row once, as its first version (reads the whole tables once)
                </label>
              </>
            )}
          </Show>
        </Match>
        <Match when={step() === "review" && plan()}>
          {(p) => (
            <div data-testid="pg-plan">
              <p class="s-mt-0">
                Rowtrail will create the following on <code>{p().url}</code>. Nothing has been created yet.
              </p>
              <table class="grid s-mb-12px">
                <tbody>
                  <tr>
                    <th>Replication slot</th>
                    <td class="mono" data-testid="plan-slot">
                      {p().slot}
                    </td>
                  </tr>
                  <tr>
                    <th>Publication</th>
                    <td class="mono">{p().publication}</td>
                  </tr>
                  <Show when={p().insert_only_publication}>
                    <tr>
                      <th>Inserts-only publication</th>
                      <td class="mono">{p().insert_only_publication}</td>
                    </tr>
                  </Show>
                  <tr>
                    <th>Tables (all changes)</th>
                    <td class="mono" data-testid="plan-tables">
                      {p().tables.map(qualified).join(", ") || "—"}
                    </td>
                  </tr>
                  <Show when={p().insert_only_tables.length}>
                    <tr>
                      <th>Tables (inserts only)</th>
                      <td class="mono">{p().insert_only_tables.map(qualified).join(", ")}</td>
                    </tr>
                  </Show>
                  <tr>
                    <th>Baseline snapshot</th>
                    <td>{p().snapshot ? "yes — every current row is read once" : "no"}</td>
                  </tr>
                </tbody>
              </table>
              <For each={p().warnings}>
                {(w) => (
                  <div class="banner warn">
                    <span class="banner-icon">⚠</span>
                    <div class="banner-body banner-msg">{w}</div>
                  </div>
                )}
              </For>
              <div class="s-mb-6px">
                <strong>SQL that will run</strong>
              </div>
              <pre class="sql" data-testid="plan-sql">
                {p().statements.join(";\n") + ";"}
              </pre>
              <div class="banner warn">
                <span class="banner-icon">⚠</span>
                <div class="banner-body banner-msg">
                  The slot keeps WAL on the server until Rowtrail has read it. While Rowtrail is not running, WAL accumulates; the Sources screen shows how much,
                  and removing the source drops the slot.
                </div>
              </div>
              <label class="check s-mt-8px">
                <input type="checkbox" checked={consent()} onChange={(e) => setConsent(e.currentTarget.checked)} data-testid="pg-consent" />I understand and want Rowtrail to
                create these objects on the server
              </label>
            </div>
          )}
        </Match>
      </Switch>
      <Show when={error()}>{(e) => <ErrorBanner title={e().title} error={e().error} onDismiss={() => setError(null)} />}</Show>
    </Modal>
  );
}
