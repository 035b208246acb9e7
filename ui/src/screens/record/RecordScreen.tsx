import { createMemo, createSignal, Match, onCleanup, onMount, Show, Switch } from "solid-js";
import type { RecordHistory, RecordRequest, UnchangedField, VersionInfo } from "../../api";
import { call } from "../../transport";
import { createQuery } from "../../query";
import { useRouter } from "../../app/context";
import { to, type Route } from "../../router";
import { contextActor, contextText, formatTimeUnder, formatTimeZoned, timeTitle, visible, zoneLabel } from "../../lib/format";
import { isEditable } from "../../lib/keys";
import { ErrorBanner } from "../../components/ErrorBanner";
import { Loading, Spinner } from "../../components/Spinner";
import { EmptyState } from "../../components/EmptyState";
import { ExportButton } from "../../components/ExportButton";
import { FieldChanges } from "../../components/FieldChanges";
import { OpLabel, txnLink } from "../../components/EventRow";
import { VirtualList, type VirtualListApi } from "../../components/VirtualList";
import { Unknown, type DiffLayout } from "../../components/DiffView";
import { ApiError } from "../../transport/errors";

const TL_ROW = 56;


/**
 * The NULL columns of an insert (its changes list the values it set; the rest were NULL),
 * when the table's columns are still those the insert had (else none: better to show
 * nothing than a wrong column).
 */
export function insertNulls(h: RecordHistory, v: VersionInfo): UnchangedField[] {
  const set = new Set(v.changes.map((c) => c.column));
  const rest = h.columns.filter((c) => !set.has(c.name));
  return rest.length === v.unchanged ? rest.map((c) => ({ column: c.name, type: c.type, value: null })) : [];
}

export function RecordScreen() {
  const router = useRouter();
  const r = () => router.route() as Extract<Route, { name: "record" }>;
  const ref = createMemo((): RecordRequest & { key: string[] } => ({ source: r().source, table: r().table, key: r().key }), undefined, {
    equals: (a, b) => JSON.stringify(a) === JSON.stringify(b),
  });
  const history = createQuery(() => ({ command: "record_history", args: ref(), tags: ["events:" + ref().source] }));
  const [exportError, setExportError] = createSignal<ApiError | null>(null);
  let timeline: VirtualListApi | undefined;

  const layout = (): DiffLayout => (r().query.layout === "split" ? "split" : "inline");
  const versions = () => history.data()?.versions ?? [];
  const count = () => versions().length;
  const selectedNumber = () => {
    const v = Number(r().query.v);
    return Number.isInteger(v) && v >= 1 && v <= count() ? v : count();
  };
  const compare = () => {
    const a = Number(r().query.from);
    const b = Number(r().query.to);
    return Number.isInteger(a) && Number.isInteger(b) && a >= 1 && b >= 1 && a <= count() && b <= count() && a !== b ? { from: Math.min(a, b), to: Math.max(a, b) } : null;
  };
  const setQuery = (patch: Record<string, string>) => {
    const q = { ...r().query, ...patch };
    for (const k of Object.keys(q)) if (!q[k]) delete q[k];
    router.navigate(to.record(r().source, r().table, r().key, q), { replace: true });
  };
  const selectVersion = (n: number) => setQuery({ v: String(n), from: "", to: "" });

  // Compare picks: the first two ticked versions.
  const [picks, setPicks] = createSignal<number[]>([]);
  const togglePick = (n: number) => {
    const p = picks().includes(n) ? picks().filter((x) => x !== n) : [...picks(), n].slice(-2);
    setPicks(p);
    if (p.length === 2) setQuery({ from: String(Math.min(...p)), to: String(Math.max(...p)) });
    else setQuery({ from: "", to: "" });
  };

  const comparison = createQuery(() => {
    const c = compare();
    return c ? { command: "compare_versions", args: { ...ref(), ...c }, tags: ["events:" + ref().source] } : null;
  });

  // Keyboard: j/k move between versions (newest at the top), Esc leaves compare mode.
  const onKey = (e: KeyboardEvent) => {
    if (document.querySelector(".modal-backdrop") || isEditable(e.target) || e.ctrlKey || e.metaKey || e.altKey) return;
    const n = count();
    if (!n) return;
    const cur = selectedNumber();
    if (e.key === "j" || e.key === "ArrowDown") {
      e.preventDefault();
      const next = Math.max(1, cur - 1);
      selectVersion(next);
      timeline?.scrollToIndex(n - next);
    } else if (e.key === "k" || e.key === "ArrowUp") {
      e.preventDefault();
      const next = Math.min(n, cur + 1);
      selectVersion(next);
      timeline?.scrollToIndex(n - next);
    } else if (e.key === "Escape" && compare()) {
      setPicks([]);
      setQuery({ from: "", to: "" });
    }
  };
  onMount(() => document.addEventListener("keydown", onKey));
  onCleanup(() => document.removeEventListener("keydown", onKey));

  const keyText = () => {
    const h = history.data();
    if (h) return visible(h.key.map(([k, v]) => `${k} = ${v ?? "NULL"}`).join(", "));
    return visible(r().key.join(", "));
  };

  const Timeline = (p: { h: RecordHistory }) => {
    // Newest first.
    const at = (i: number) => p.h.versions[p.h.versions.length - 1 - i]!;
    return (
      <aside class="timeline s-d-flex_fd-column" aria-label="Versions">
        <div class="listbar s-bg-transparent">
          <span>
            <strong class="s-c-fg">{p.h.versions.length}</strong> versions{" "}
            {/* The zone alone, in the same span (the tooltip says what it is): more would wrap
                the 300 px timeline's header. */}
            <span class="subtle" title="Times are in this computer's time zone (the exact UTC time is in each version's tooltip)" data-testid="timeline-zone">
              · {zoneLabel()}
            </span>
          </span>
          <span class="spacer" />
          <span class="subtle" title="Tick two versions to compare them">
            compare: tick two
          </span>
        </div>
        <VirtualList
          count={p.h.versions.length}
          rowHeight={TL_ROW}
          data-testid="timeline"
          aria-label="Versions, newest first"
          ref={(api) => (timeline = api)}
          renderRow={(i) => {
            const v = at(i);
            const e = v.event;
            return (
              <div
                class="tl-item"
                aria-current={!compare() && selectedNumber() === v.number}
                data-testid="version-item"
                data-version={v.number}
                onClick={() => selectVersion(v.number)}
              >
                <span class="tl-dot" title={`version ${v.number}`}>
                  {v.number}
                </span>
                <div class="tl-main">
                  <div>
                    <OpLabel op={e.op} />{" "}
                    <span class="muted s-fs-12px">
                      {e.op === "delete" ? "record removed" : `${v.changes.length} ${v.changes.length === 1 ? "field" : "fields"}`}
                    </span>
                    <Show when={p.h.gaps.find((g) => g.after_version === v.number)}>
                      {(g) => (
                        <span class="muted s-fs-12px" data-testid="timeline-gap" title={g().message}>
                          {" "}· ⚠ gap after
                        </span>
                      )}
                    </Show>
                  </div>
                  <div class="tl-meta" title={visible(timeTitle(e.committed_at) + "\n" + contextText(e.context))}>
                    {formatTimeUnder(e.committed_at)} · {visible(contextActor(e.context)) || "no actor"}
                  </div>
                </div>
                <label class="tl-cmp" onClick={(x) => x.stopPropagation()} title="Compare this version">
                  <input
                    type="checkbox"
                    checked={picks().includes(v.number) || (compare()?.from === v.number || compare()?.to === v.number)}
                    onChange={() => togglePick(v.number)}
                    data-testid="compare-pick"
                    aria-label={`Compare version ${v.number}`}
                  />
                  cmp
                </label>
              </div>
            );
          }}
        />
      </aside>
    );
  };

  const VersionPanel = (p: { h: RecordHistory; v: VersionInfo }) => {
    const e = () => p.v.event;
    return (
      <div class="card" data-testid="version-panel" data-version={p.v.number}>
        <div class="card-head version-head">
          <h2>
            Version {p.v.number} <span class="muted s-fw-400">of {p.h.versions.length}</span>
          </h2>
          <OpLabel op={e().op} />
          <span class="muted" title={timeTitle(e().committed_at)} data-testid="version-time">
            {formatTimeZoned(e().committed_at)}
          </span>
          <a href={txnLink(e())} class="mono" data-testid="version-txn" title={`position ${e().position}`}>
            {e().grouping === "statement" ? "statement group" : "transaction"} {visible(e().txid)}
          </a>
          <span class="muted" title={visible(contextText(e().context))} data-testid="version-actor">
            {contextActor(e().context) ? "by " + visible(contextActor(e().context)) : ""}
          </span>
        </div>
        <Show when={p.h.gaps.find((g) => g.after_version === p.v.number - 1)}>
          {(g) => (
            <div class="banner warn" data-testid="version-gap">
              <span class="banner-icon">⚠</span>
              <div class="banner-body banner-msg">Before this version: {g().message}</div>
            </div>
          )}
        </Show>
        <Show when={p.v.number === p.h.versions.length && p.h.gaps.find((g) => g.after_version === p.v.number)}>
          {(g) => (
            <div class="banner warn" data-testid="version-gap">
              <span class="banner-icon">⚠</span>
              <div class="banner-body banner-msg">Since this version: {g().message}</div>
            </div>
          )}
        </Show>
        <Show when={e().op === "truncate"}>
          <div class="card-body muted">The whole table was truncated: this record was removed with every other row.</div>
        </Show>
        <Show when={e().op === "delete" && p.v.changes.length > 0}>
          <div class="card-body muted s-pb-0" data-testid="deleted-note">
            This version deleted the record. The fields below are the record it removed, each with its last value.
          </div>
        </Show>
        <Show when={e().op !== "delete" && p.v.changes.some((c) => c.unknown)}>
          <div class="card-body muted s-pb-0" data-testid="unknown-note">
            Fields marked <Unknown /> were set by this change, but their earlier value is not known: the source did not send it and no
            earlier version holds it. It is not NULL.
          </div>
        </Show>
        <FieldChanges
          source={p.h.source}
          schema={p.h.schema}
          table={p.h.table}
          changes={p.v.changes}
          unchanged={async () => {
            if (e().op === "insert") return insertNulls(p.h, p.v);
            return p.v.number > 1 ? (await call("compare_versions", { ...ref(), from: p.v.number - 1, to: p.v.number })).unchanged : [];
          }}
          unchangedCount={p.v.unchanged}
          layout={layout()}
          unchangedLabel={e().op === "insert" ? "NULL" : undefined}
          emptyText={
            e().op === "delete"
              ? "The record was deleted."
              : "No change to show: the row was rewritten with the same values."
          }
        />
      </div>
    );
  };

  return (
    <div class="screen s-flex-1" data-testid="screen-record">
      <div class="s-p-12px-20px_bb-1px-solid-border">
        <div class="crumbs">
          <a href={to.changes()}>Changes</a> / <a href={to.changes({ source: r().source })}>{visible(r().source)}</a> /{" "}
          <a href={to.changes({ source: r().source, table: r().table })}>{visible(r().table)}</a>
        </div>
        <div class="page-head s-m-0">
          <h1 data-testid="record-title">
            <span class="mono s-fs-15px">
              {visible(r().table)}
            </span>{" "}
            <span class="muted s-fw-400">
              {keyText()}
            </span>
          </h1>
          <Show when={history.loading() && history.data()}>
            <Spinner label="Refreshing" />
          </Show>
          <span class="spacer" />
          <span class="seg" role="group" aria-label="Diff layout">
            <button class="small" aria-pressed={layout() === "inline"} onClick={() => setQuery({ layout: "" })} data-testid="layout-inline">
              Inline
            </button>
            <button class="small" aria-pressed={layout() === "split"} onClick={() => setQuery({ layout: "split" })} data-testid="layout-split">
              Side by side
            </button>
          </span>
          <ExportButton what="this record's history" run={(format) => call("export_history", { ...ref(), format })} onError={setExportError} testid="export-history" />
        </div>
      </div>
      <Show when={exportError()}>{(e) => <div class="s-p-0-20px"><ErrorBanner title="Export failed" error={e()} onDismiss={() => setExportError(null)} /></div>}</Show>
      <Switch>
        <Match when={history.error() && !history.data()}>
          <div class="page s-w-100">
            <Show
              when={history.error()?.code === "not_found"}
              fallback={<ErrorBanner title="Could not read this record's history" error={history.error()} onRetry={history.refetch} />}
            >
              <EmptyState title="No changes recorded for this record" testid="record-not-found" actions={<a class="btn" href={to.changes({ source: r().source, table: r().table })}>Browse {visible(r().table)}</a>}>
                {visible(history.error()!.message)}. Check the key, or look the record up from the Changes list.
              </EmptyState>
            </Show>
          </div>
        </Match>
        <Match when={!history.data()}>
          <div class="page s-w-100">
            <Loading>Reading the record's history…</Loading>
          </div>
        </Match>
        <Match when={history.data()}>
          {(h) => (
            <div class="record-layout">
              <Timeline h={h()} />
              <div class="record-main">
                <div class="s-p-16px-20px-40px">
                  <Switch>
                    <Match when={compare()}>
                      {(c) => (
                        <div class="card" data-testid="compare-panel">
                          <div class="card-head version-head">
                            <h2>
                              Version {c().from} → version {c().to}
                            </h2>
                            <span class="muted" data-testid="compare-time">
                              {formatTimeZoned(h().versions[c().from - 1]?.event.committed_at)} → {formatTimeZoned(h().versions[c().to - 1]?.event.committed_at)}
                            </span>
                            <span class="s-flex-1" />
                            <button
                              class="small"
                              onClick={() => {
                                setPicks([]);
                                setQuery({ from: "", to: "" });
                              }}
                              data-testid="compare-close"
                            >
                              Close comparison (Esc)
                            </button>
                          </div>
                          <Show when={comparison.error()}>
                            <div class="card-body">
                              <ErrorBanner title="Could not compare these versions" error={comparison.error()} onRetry={comparison.refetch} />
                            </div>
                          </Show>
                          <Show when={comparison.data()} fallback={<div class="card-body"><Loading>Comparing…</Loading></div>}>
                            {(cmp) => (
                              <FieldChanges
                                source={h().source}
                                schema={h().schema}
                                table={h().table}
                                changes={cmp().changes}
                                unchanged={cmp().unchanged}
                                unchangedCount={cmp().unchanged.length}
                                layout={layout()}
                                emptyText="These two versions are identical."
                              />
                            )}
                          </Show>
                        </div>
                      )}
                    </Match>
                    <Match when={h().versions[selectedNumber() - 1]}>{(v) => <VersionPanel h={h()} v={v()} />}</Match>
                  </Switch>
                  <Show when={!compare()}>
                    <p class="subtle s-mt-12px">
                      <span class="kbd">j</span>/<span class="kbd">k</span> older/newer version · tick two versions in the timeline to compare them.
                    </p>
                  </Show>
                </div>
              </div>
            </div>
          )}
        </Match>
      </Switch>
    </div>
  );
}
