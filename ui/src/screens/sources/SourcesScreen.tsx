import { createEffect, createSignal, For, Match, onCleanup, Show, Switch } from "solid-js";
import type { ApiEvent, LiveState, ResetPlanInfo, SourceInfo } from "../../api";
import { call, connection, subscribe } from "../../transport";
import { createQuery } from "../../query";
import { useRouter } from "../../app/context";
import { to } from "../../router";
import { formatBytes, formatCount, formatRate } from "../../lib/format";
import { ErrorBanner } from "../../components/ErrorBanner";
import { EmptyState } from "../../components/EmptyState";
import { Loading, Spinner } from "../../components/Spinner";
import { ConfirmDialog } from "../../components/ConfirmDialog";
import { AddSourceDialog } from "../../components/AddSourceDialog";

type Progress = Extract<ApiEvent, { type: "progress" }>;

const STATE_LABELS: Record<LiveState, string> = {
  idle: "Idle",
  connecting: "Connecting",
  catching_up: "Catching up",
  live: "Live",
  reconnecting: "Reconnecting",
  error: "Error",
  paused: "Paused",
};

export function stateLabel(s: LiveState): string {
  return STATE_LABELS[s] ?? s;
}

interface Live {
  state: LiveState;
  message: string | null;
}

/** What to say about a PostgreSQL source's slot, if anything is wrong with it. */
export function slotWarning(src: SourceInfo): string | null {
  const h = src.slot;
  if (!h || h.error) return null;
  const s = h.own;
  if (!s) return `The server has no replication slot ${h.slot}: changes made since the cache's position are lost. Reset re-creates it and keeps the cached events (the gap is recorded).`;
  if (s.lost) return `The server invalidated slot ${s.slot} (max_slot_wal_keep_size): history after its position is missing. Reset re-creates it and keeps the cached events (the gap is recorded).`;
  if (s.wal_status === "unreserved") return `Slot ${s.slot} is about to be invalidated by the server (wal_status unreserved): resume capture now.`;
  if (s.warn)
    return `Slot ${s.slot} retains ${formatBytes(s.retained_bytes)} of WAL on the server (warning above ${formatBytes(h.warn_threshold_bytes)}). Resume capture so it can be freed, or remove the source and drop its slot.`;
  return null;
}

export function SourcesScreen() {
  const router = useRouter();
  const q = createQuery(() => ({ command: "list_sources", args: {}, tags: ["sources"] }));
  // Slot health asks each PostgreSQL server: refreshed every 15 s and when sources change.
  const slots = createQuery(() => ({ command: "list_sources", args: { slots: true }, tags: ["slots"] }));
  const timer = setInterval(() => slots.refetch(), 15_000);
  onCleanup(() => clearInterval(timer));
  const [added, setAdded] = createSignal<{ name: string; warnings: string[] } | null>(null);
  const ws = createQuery(() => ({ command: "workspace_info", args: {}, tags: ["sources"] }));
  /** The source with its slot health, when known. */
  const withSlot = (s: SourceInfo): SourceInfo => ({ ...s, slot: slots.data()?.sources.find((x) => x.name === s.name)?.slot ?? s.slot });
  const [adding, setAdding] = createSignal(false);
  const [removing, setRemoving] = createSignal<SourceInfo | null>(null);
  const [resetting, setResetting] = createSignal<{ plan: ResetPlanInfo } | null>(null);
  const [resetError, setResetError] = createSignal<unknown>(null);
  /** Plans a reset of `s`'s slot and asks, showing the SQL. */
  const startReset = async (s: SourceInfo) => {
    setResetError(null);
    try {
      setResetting({ plan: await call("plan_reset_source", { name: s.name }) });
    } catch (e) {
      setResetError(e);
    }
  };
  const [dropUpstream, setDropUpstream] = createSignal(true);
  const [busy, setBusy] = createSignal<string | null>(null);
  // Passwords are never stored, so after a restart a PostgreSQL source that needs one fails
  // to connect until someone gives it again, for this session.
  const [askPassword, setAskPassword] = createSignal<SourceInfo | null>(null);
  const [password, setPassword] = createSignal("");
  const [actionError, setActionError] = createSignal<{ title: string; error: unknown } | null>(null);
  const [progress, setProgress] = createSignal<Record<string, Progress>>({});
  const [states, setStates] = createSignal<Record<string, Live>>({});

  // `#/sources?add=1` opens the dialog (the desktop menu's File → Add source… goes there).
  createEffect(() => {
    if (router.route().query.add) setAdding(true);
  });
  const closeAdd = () => {
    setAdding(false);
    if (router.route().query.add) router.navigate(to.sources(), { replace: true });
  };

  onCleanup(
    subscribe((ev) => {
      if (ev.type === "progress") {
        setProgress((p) => ({ ...p, [ev.source]: ev }));
        setStates((s) => ({ ...s, [ev.source]: { state: ev.state, message: ev.message } }));
      }
      if (ev.type === "source_state") setStates((s) => ({ ...s, [ev.source]: { state: ev.state, message: ev.message } }));
    }),
  );
  // Fresh list: drop the per-event overrides it now includes.
  createEffect(() => {
    if (q.data()) setStates({});
  });

  const stateOf = (s: SourceInfo): Live => states()[s.name] ?? { state: s.paused ? "paused" : s.state, message: s.message };

  /** What the row's main button does in each state. */
  const action = (s: SourceInfo): { label: string; command: "resume_source" | "pause_source" | "watch_source"; verb: string } => {
    const st = stateOf(s).state;
    if (st === "paused") return { label: "Resume", command: "resume_source", verb: "resume" };
    if (st === "error" || st === "idle") return { label: st === "error" ? "Retry" : "Watch", command: "watch_source", verb: "start watching" };
    return { label: "Pause", command: "pause_source", verb: "pause" };
  };
  const toggle = async (s: SourceInfo) => {
    const a = action(s);
    setBusy(s.name);
    setActionError(null);
    try {
      await call(a.command, { name: s.name });
      q.refetch();
    } catch (e) {
      setActionError({ title: `Could not ${a.verb} ${s.name}`, error: e });
    } finally {
      setBusy(null);
    }
  };

  return (
    <div class="screen-scroll" data-testid="screen-sources">
      <div class="page">
        <div class="page-head">
          <h1>Sources</h1>
          <Show when={q.loading() && q.data()}>
            <Spinner label="Refreshing" />
          </Show>
          <span class="spacer" />
          <button class="primary" onClick={() => setAdding(true)} data-testid="add-source">
            + Add source
          </button>
        </div>
        <Show when={added()}>
          {(a) => (
            <div class="banner warn s-bc-ok_bg-bg-subtle" data-testid="source-added">
              <span class="banner-icon s-c-ok">
                ✓
              </span>
              <div class="banner-body">
                <div class="banner-title">Source {a().name} added — Rowtrail is reading it now.</div>
                <For each={a().warnings}>{(w) => <div class="banner-msg">{w}</div>}</For>
              </div>
              <button class="small ghost" aria-label="Dismiss" onClick={() => setAdded(null)}>
                ✕
              </button>
            </div>
          )}
        </Show>
        <Show when={actionError()}>{(a) => <ErrorBanner title={a().title} error={a().error} onDismiss={() => setActionError(null)} />}</Show>
        <Show when={q.error()}>
          <ErrorBanner title="Could not list the sources" error={q.error()} onRetry={q.refetch} />
        </Show>
        <Switch>
          <Match when={!q.data() && q.loading()}>
            <Loading>Loading sources…</Loading>
          </Match>
          <Match when={q.data()?.sources.length === 0}>
            <EmptyState
              title="No sources yet"
              testid="sources-empty"
              actions={
                <button class="primary" onClick={() => setAdding(true)}>
                  + Add source
                </button>
              }
            >
              Add a PostgreSQL database (logical replication) or a SQLite file to start recording every change to its rows.
            </EmptyState>
          </Match>
          <Match when={q.data()}>
            {(data) => (
              <div class="card">
                <table class="grid" data-testid="sources-table">
                  <thead>
                    <tr>
                      <th>Source</th>
                      <th>State</th>
                      <th class="num">Events</th>
                      <th class="num">Events/s</th>
                      <th class="num" title="Bytes between the server's WAL position and what Rowtrail confirmed">
                        Lag
                      </th>
                      <th class="num" title="WAL the server keeps for Rowtrail's replication slot">
                        Retained WAL
                      </th>
                      <th>Position</th>
                      <th />
                    </tr>
                  </thead>
                  <tbody>
                    <For each={data().sources.map(withSlot)}>
                      {(s) => {
                        const st = () => stateOf(s);
                        const slot = () => s.slot?.own ?? null;
                        const warn = () => slotWarning(s);
                        const prog = () => progress()[s.name];
                        return (
                          <tr data-testid="source-row" data-source={s.name} data-state={st().state}>
                            <td>
                              <div>
                                <a href={to.changes({ source: s.name })} class="s-fw-600">
                                  {s.name}
                                </a>{" "}
                                <span class="badge">{s.kind === "postgres" ? "PostgreSQL" : s.kind === "sqlite" ? "SQLite" : s.kind}</span>
                              </div>
                              <div class="muted mono s-fs-11_5px_ow-anywhere">
                                {s.target}
                              </div>
                            </td>
                            <td>
                              {/* Without the server, the last state it sent is no news: say so. */}
                              <Show
                                when={connection() !== "disconnected"}
                                fallback={
                                  <span class="state state-error" data-testid="source-state" title={`Last known: ${stateLabel(st().state)}`}>
                                    Disconnected
                                  </span>
                                }
                              >
                                <span class={"state state-" + st().state} data-testid="source-state">
                                  {stateLabel(st().state)}
                                </span>
                              </Show>
                              <Show when={connection() !== "disconnected" && (st().state === "catching_up" || st().state === "connecting" || st().state === "reconnecting")}>
                                <div class="muted s-fs-11_5px" data-testid="source-progress">
                                  <Spinner />{" "}
                                  {prog()
                                    ? `${formatCount(prog()!.events)} events read` + (prog()!.behind !== null ? ` · ${s.kind === "postgres" ? formatBytes(prog()!.behind) : formatCount(prog()!.behind)} to go` : "")
                                    : st().state === "catching_up"
                                      ? "reading the backlog…"
                                      : ""}
                                </div>
                              </Show>
                              <Show when={st().message}>
                                {(m) => (
                                  <div
                                    class={"banner-msg source-msg" + (st().state === "error" ? " is-error" : "")}
                                    data-testid="source-message"
                                  >
                                    {m()}
                                  </div>
                                )}
                              </Show>
                            </td>
                            <td class="num">{formatCount(s.events_stored)}</td>
                            {/* A rate is news only while the source is being read: a paused or stopped
                                source shows none rather than its last one forever. */}
                            <td class="num" data-testid="source-rate">
                              {connection() !== "disconnected" && ["live", "catching_up"].includes(st().state) ? formatRate(prog()?.events_per_sec ?? s.events_per_sec) : <span class="subtle">—</span>}
                            </td>
                            <td class="num">
                              <Show when={s.kind === "postgres"} fallback={<span class="subtle">—</span>}>
                                <Show when={slot()} fallback={<span class="subtle" title={s.slot?.error ?? "asking the server…"}>{s.slot?.error ? "?" : "…"}</span>}>
                                  {formatBytes(slot()!.lag_bytes)}
                                </Show>
                              </Show>
                            </td>
                            <td class="num">
                              <Show when={slot()} fallback={<span class="subtle">—</span>}>
                                <span
                                  class={warn() ? "warn-text" : ""}
                                  title={warn() ?? `wal_status ${slot()!.wal_status ?? "unknown"}`}
                                  data-testid="retained-wal"
                                  data-warn={warn() ? "true" : "false"}
                                >
                                  {warn() ? "⚠ " : ""}
                                  {formatBytes(slot()!.retained_bytes)}
                                </span>
                              </Show>
                            </td>
                            <td class="nowrap muted mono" title="Where capture resumes (LSN for PostgreSQL, log id otherwise)">
                              {s.position ?? "—"}
                            </td>
                            <td class="nowrap s-ta-right">
                              <button class="small" disabled={busy() === s.name} onClick={() => toggle(s)} data-testid="source-toggle">
                                <Show when={busy() === s.name}>
                                  <Spinner />
                                </Show>
                                {action(s).label}
                              </button>{" "}
                              <Show when={s.kind === "postgres" && (st().state === "error" || st().state === "idle" || st().state === "paused")}>
                                <button
                                  class="small"
                                  title="Start capture with a password (kept in memory for this session only, never stored)"
                                  onClick={() => {
                                    setPassword("");
                                    setAskPassword(s);
                                  }}
                                  data-testid="source-password"
                                >
                                  Password…
                                </button>{" "}
                              </Show>
                              <button
                                class="small danger"
                                onClick={() => {
                                  setDropUpstream(true);
                                  setRemoving(s);
                                }}
                                data-testid="source-remove"
                              >
                                Remove…
                              </button>
                            </td>
                          </tr>
                        );
                      }}
                    </For>
                  </tbody>
                </table>
                <For each={data().sources.map(withSlot).filter((s) => slotWarning(s) || s.slot?.error || s.slot?.others.length || s.slot?.capture_problems?.length || s.warnings.length)}>
                  {(s) => (
                    <div class="s-p-0-12px">
                      <Show when={s.kind === "postgres" && (s.slot?.own?.lost || (s.slot && !s.slot.own && (s.slot.error ?? "").includes("has no slot")))}>
                        <div class="s-m-8px-0-12px_fs-12px">
                          <button class="btn" data-testid="reset-slot" onClick={() => startReset(s)}>
                            Reset {s.name}…
                          </button>{" "}
                          <span class="muted">re-creates the slot and keeps the cached events; the changes in between are recorded as a gap.</span>
                        </div>
                      </Show>
                      <Show when={s.warnings.length}>
                        <details class="muted s-m-8px-0-12px_fs-12px" data-testid="table-warnings">
                          <summary>
                            {s.name}: {s.warnings.length} {s.warnings.length === 1 ? "note" : "notes"} about its tables
                          </summary>
                          <For each={s.warnings}>{(w) => <div class="banner-msg">{w}</div>}</For>
                        </details>
                      </Show>
                      <Show when={slotWarning(s)}>
                        <div class="banner warn" data-testid="wal-warning">
                          <span class="banner-icon">⚠</span>
                          <div class="banner-body">
                            <div class="banner-title">{s.name}: the replication slot needs attention</div>
                            <div class="banner-msg">{slotWarning(s)}</div>
                          </div>
                        </div>
                      </Show>
                      <Show when={s.slot?.capture_problems?.length}>
                        <div class="banner warn" data-testid="capture-problems">
                          <span class="banner-icon">⚠</span>
                          <div class="banner-body">
                            <div class="banner-title">{s.name}: changed on the server, some changes are not captured</div>
                            <For each={s.slot!.capture_problems}>{(p) => <div class="banner-msg">{p}</div>}</For>
                          </div>
                        </div>
                      </Show>
                      <Show when={s.slot?.error}>
                        <div class="banner warn">
                          <span class="banner-icon">?</span>
                          <div class="banner-body">
                            <div class="banner-title">{s.name}: could not read the slot's lag and retained WAL</div>
                            <div class="banner-msg">{s.slot!.error}</div>
                          </div>
                        </div>
                      </Show>
                      <Show when={s.slot?.others.length}>
                        <div class="muted s-m-8px-0-12px_fs-12px" data-testid="other-slots">
                          Other Rowtrail slots on {s.name}'s server:{" "}
                          {s.slot!.others.map((o) => `${o.slot} (${formatBytes(o.retained_bytes)} retained${o.active ? ", active" : ""})`).join(", ")}. A slot no
                          cache reads keeps WAL forever: drop it with <code>SELECT pg_drop_replication_slot('name')</code>.
                        </div>
                      </Show>
                    </div>
                  )}
                </For>
              </div>
            )}
          </Match>
        </Switch>
        <Show when={ws.data()}>
          {(w) => (
            <p class="subtle workspace-line" data-testid="workspace-info">
              Cache <span class="mono">{w().cache_path}</span> · {formatCount(w().event_count)} events in {formatCount(w().transaction_count)} transactions ·{" "}
              {formatCount(w().table_count)} tables · Rowtrail {w().version}
            </p>
          )}
        </Show>
      </div>
      <Show when={adding()}>
        <AddSourceDialog
          onClose={closeAdd}
          onAdded={(name, warnings) => {
            closeAdd();
            setAdded({ name, warnings });
            q.refetch();
            slots.refetch();
          }}
        />
      </Show>
      <Show when={askPassword()}>
        {(s) => (
          <ConfirmDialog
            title={`Connect ${s().name} with a password`}
            confirmLabel={stateOf(s()).state === "paused" ? "Resume" : "Connect"}
            testid="password-dialog"
            onClose={() => setAskPassword(null)}
            onConfirm={async () => {
              await call(stateOf(s()).state === "paused" ? "resume_source" : "watch_source", { name: s().name, password: password() || null });
              setPassword("");
              q.refetch();
            }}
          >
            <p class="s-m-0">
              For <span class="mono">{s().target}</span>. Rowtrail keeps it in memory until it quits and never writes it anywhere; with
              <code>ROWTRAIL_PG_PASSWORD</code> or <code>PGPASSWORD</code> set when Rowtrail starts, it is not asked for.
            </p>
            <label class="field">
              Password
              <input type="password" autocomplete="off" value={password()} onInput={(e) => setPassword(e.currentTarget.value)} data-testid="password-input" />
            </label>
          </ConfirmDialog>
        )}
      </Show>
      <Show when={resetError()}>
        {(e) => (
          <div class="s-p-0-12px">
            <ErrorBanner title="Could not plan the reset" error={e()} onDismiss={() => setResetError(null)} />
          </div>
        )}
      </Show>
      <Show when={resetting()}>
        {(r) => (
          <ConfirmDialog
            title={`Reset source ${r().plan.name}?`}
            confirmLabel="Re-create the slot"
            testid="reset-dialog"
            onClose={() => setResetting(null)}
            onConfirm={async () => {
              await call("reset_source", { name: r().plan.name, statements: r().plan.statements });
              q.refetch();
              slots.refetch();
            }}
          >
            <p class="s-m-0">
              Keeps the {r().plan.cached_events} cached events of <strong>{r().plan.name}</strong> and starts a new slot at the server's current
              position. The changes since {r().plan.from_position} cannot be read any more; every history that spans them shows the gap. This runs:
            </p>
            <pre class="mono">{r().plan.statements.join(";\n") + ";"}</pre>
          </ConfirmDialog>
        )}
      </Show>
      <Show when={removing()}>
        {(s) => (
          <ConfirmDialog
            title={`Remove source ${s().name}?`}
            confirmLabel="Remove source"
            danger
            testid="remove-dialog"
            onClose={() => setRemoving(null)}
            onConfirm={async () => {
              await call("remove_source", { name: s().name, drop_upstream: dropUpstream() });
              q.refetch();
            }}
          >
            <p class="s-m-0">
              Rowtrail stops capturing <strong>{s().name}</strong> and forgets its events in the local cache. The database itself is not changed
              {dropUpstream() ? " except as below" : ""}.
            </p>
            <label class="check">
              <input type="checkbox" checked={dropUpstream()} onChange={(e) => setDropUpstream(e.currentTarget.checked)} data-testid="drop-upstream" />
              <Show when={s().kind === "postgres"} fallback={<span>Also remove Rowtrail's triggers and log table from the SQLite file</span>}>
                <span>
                  Also drop the replication slot{" "}
                  <code>{s().slot?.slot ?? "rowtrail_" + s().name}</code> and its publications on the server
                </span>
              </Show>
            </label>
            <Show when={s().kind === "postgres" && !dropUpstream()}>
              <div class="banner warn">
                <span class="banner-icon">⚠</span>
                <div class="banner-body banner-msg">
                  A replication slot left on the server keeps all WAL from now on, until the disk fills. Drop it unless another Rowtrail cache still
                  reads it.
                </div>
              </div>
            </Show>
          </ConfirmDialog>
        )}
      </Show>
    </div>
  );
}
