// Renders the backend's ValueDiff. Every value is a text node (never markup): audited values
// come from production databases. Changes are marked by symbols and <del>/<ins> (struck
// through / underlined) as well as colour. Every piece of audited text goes through visible(),
// so a bidirectional control (an RTL override) in a value is shown as an escape, not applied.
import { For, Match, Show, Switch, type JSX } from "solid-js";
import type { JsonChange, JsonValue, LineChange, Span, ValueDiff } from "../api";
import { visible } from "../lib/format";

export type DiffLayout = "inline" | "split";

/** A value in the database's text form; NULL and the empty string are shown as such. */
export function Value(props: { value: string | null | undefined; class?: string }): JSX.Element {
  return (
    <Switch fallback={<span class={"val " + (props.class ?? "")}>{visible(props.value)}</span>}>
      <Match when={props.value === null || props.value === undefined}>
        <span class={"val val-null " + (props.class ?? "")} title="SQL NULL">
          NULL
        </span>
      </Match>
      <Match when={props.value === ""}>
        <span class={"val val-empty " + (props.class ?? "")} title="empty string">
          (empty)
        </span>
      </Match>
    </Switch>
  );
}

function stripEol(s: string): string {
  return s.replace(/\r?\n$/, "");
}

function jsonText(v: JsonValue): string {
  return visible(JSON.stringify(v) ?? "undefined");
}

/** A JSON path as shown (keys are audited text too). */
function jsonPath(path: string): string {
  return path === "" ? "(root)" : visible(path);
}

/** A whole line of a multi-line value, without its terminator. */
function lineText(s: string): string {
  return visible(stripEol(s));
}

function Spans(props: { spans: Span[]; side?: "old" | "new"; stripEol?: boolean }) {
  const shown = () =>
    props.spans.filter((s) => (props.side === "old" ? s.op !== "insert" : props.side === "new" ? s.op !== "delete" : true));
  return (
    <For each={shown()}>
      {(s, i) => {
        const text = () => visible(props.stripEol && i() === shown().length - 1 ? stripEol(s.text) : s.text);
        return (
          <Switch fallback={<span>{text()}</span>}>
            <Match when={s.op === "delete"}>
              <del class="d-del" title="removed">
                {text()}
              </del>
            </Match>
            <Match when={s.op === "insert"}>
              <ins class="d-ins" title="added">
                {text()}
              </ins>
            </Match>
          </Switch>
        );
      }}
    </For>
  );
}

const LINE_MARK: Record<LineChange["op"], string> = { equal: " ", delete: "−", insert: "+", changed: "~" };

function Lines(props: { lines: LineChange[]; layout: DiffLayout }) {
  return (
    <Show
      when={props.layout === "split"}
      fallback={
        <div class="d-lines" role="table">
          <For each={props.lines}>
            {(l) => (
              <div class={"d-line d-line-" + l.op} role="row">
                <span class="d-mark" aria-label={l.op}>
                  {LINE_MARK[l.op]}
                </span>
                <span class="d-line-text">
                  {l.op === "changed" ? <Spans spans={l.spans} stripEol /> : lineText(l.text)}
                </span>
              </div>
            )}
          </For>
        </div>
      }
    >
      <div class="d-split">
        <div class="d-side d-old">
          <For each={props.lines.filter((l) => l.op !== "insert")}>
            {(l) => (
              <div class={"d-line d-line-" + l.op}>
                <span class="d-mark">{l.op === "delete" ? "−" : l.op === "changed" ? "~" : " "}</span>
                <span class="d-line-text">{l.op === "changed" ? <Spans spans={l.spans} side="old" stripEol /> : lineText(l.text)}</span>
              </div>
            )}
          </For>
        </div>
        <div class="d-side d-new">
          <For each={props.lines.filter((l) => l.op !== "delete")}>
            {(l) => (
              <div class={"d-line d-line-" + l.op}>
                <span class="d-mark">{l.op === "insert" ? "+" : l.op === "changed" ? "~" : " "}</span>
                <span class="d-line-text">{l.op === "changed" ? <Spans spans={l.spans} side="new" stripEol /> : lineText(l.text)}</span>
              </div>
            )}
          </For>
        </div>
      </div>
    </Show>
  );
}

/** One side of a JSON change in the side-by-side layout. */
function JsonSide(props: { c: JsonChange; side: "old" | "new" }) {
  const ch = () => props.c.change;
  const text = (): { v: string; mark: "del" | "ins" | "moved" } | null => {
    const c = ch();
    if (c.kind === "moved") return { v: props.side === "old" ? `at index ${c.from}` : `moved to index ${c.to}`, mark: "moved" };
    if (props.side === "old") return c.kind === "removed" || c.kind === "changed" ? { v: jsonText(c.old), mark: "del" } : null;
    return c.kind === "added" || c.kind === "changed" ? { v: jsonText(c.new), mark: "ins" } : null;
  };
  return (
    <div class={"d-jrow d-j-" + ch().kind} data-testid="json-change">
      <span class="d-mark">{props.side === "old" ? (text() ? (ch().kind === "moved" ? "↕" : "−") : " ") : text() ? (ch().kind === "moved" ? "↕" : "+") : " "}</span>
      <code class="d-path">{jsonPath(props.c.path)}</code>
      <span class="d-jval">
        <Show when={text()} fallback={<span class="d-absent">(absent)</span>}>
          {(t) =>
            t().mark === "del" ? <del class="d-del">{t().v}</del> : t().mark === "ins" ? <ins class="d-ins">{t().v}</ins> : <span class="d-moved">{t().v}</span>
          }
        </Show>
      </span>
    </div>
  );
}

function JsonChanges(props: { changes: JsonChange[]; layout: DiffLayout }) {
  return (
    <Show
      when={props.layout !== "split"}
      fallback={
        <div class="d-split">
          <div class="d-side d-old d-json">
            <For each={props.changes}>{(c) => <JsonSide c={c} side="old" />}</For>
          </div>
          <div class="d-side d-new d-json">
            <For each={props.changes}>{(c) => <JsonSide c={c} side="new" />}</For>
          </div>
        </div>
      }
    >
      <JsonInline changes={props.changes} />
    </Show>
  );
}

function JsonInline(props: { changes: JsonChange[] }) {
  return (
    <div class="d-json" role="table">
      <For each={props.changes}>
        {(c) => (
          <div class={"d-jrow d-j-" + c.change.kind} role="row" data-testid="json-change">
            <span class="d-mark" aria-label={c.change.kind}>
              {c.change.kind === "added" ? "+" : c.change.kind === "removed" ? "−" : c.change.kind === "moved" ? "↕" : "~"}
            </span>
            <code class="d-path">{jsonPath(c.path)}</code>
            <span class="d-jval">
              <Switch>
                <Match when={c.change.kind === "added" && c.change}>
                  {(ch) => <ins class="d-ins">{jsonText(ch().new)}</ins>}
                </Match>
                <Match when={c.change.kind === "removed" && c.change}>
                  {(ch) => <del class="d-del">{jsonText(ch().old)}</del>}
                </Match>
                <Match when={c.change.kind === "changed" && c.change}>
                  {(ch) => (
                    <>
                      <del class="d-del">{jsonText(ch().old)}</del>
                      <span class="d-arrow" aria-label="becomes">
                        {" → "}
                      </span>
                      <ins class="d-ins">{jsonText(ch().new)}</ins>
                    </>
                  )}
                </Match>
                <Match when={c.change.kind === "moved" && c.change}>
                  {(ch) => (
                    <span class="d-moved">
                      moved from index {ch().from} to {ch().to}
                    </span>
                  )}
                </Match>
              </Switch>
            </span>
          </div>
        )}
      </For>
    </div>
  );
}

export interface DiffViewProps {
  diff: ValueDiff;
  layout?: DiffLayout;
  /** The value, for `unchanged` (the diff itself does not carry it). */
  value?: string | null;
  /** The old value is unknown (the change's `unknown`): a `deleted` diff's null `old` is then
   * not NULL but a value nobody knows. */
  unknown?: boolean;
}

export const UNKNOWN_HELP =
  "Unknown: the source did not send the earlier value (a REPLICA IDENTITY DEFAULT update sends no old row) and no earlier version holds it (the history starts here, or the column was added or renamed since). It is not NULL.";

/** An earlier value nobody knows: never shown as NULL or as unchanged. */
export function Unknown() {
  return (
    <span class="val val-unknown" title={UNKNOWN_HELP} data-testid="value-unknown">
      unknown
    </span>
  );
}

/** One column's change between two versions. */
export function DiffView(props: DiffViewProps) {
  const layout = () => props.layout ?? "inline";
  return (
    <div class={"diff diff-" + props.diff.kind + " diff-" + layout()} data-testid="diff" data-kind={props.diff.kind}>
      <Switch>
        <Match when={props.diff.kind === "unchanged"}>
          <span class="d-tag d-tag-same">unchanged</span> <Value value={props.value} />
        </Match>
        <Match when={props.diff.kind === "set" && props.diff}>
          {(d) => (
            <Show
              when={layout() === "split"}
              fallback={
                <>
                  <span class="d-tag d-tag-set">+ set</span> <ins class="d-ins d-whole"><Value value={d().new} /></ins>
                </>
              }
            >
              <div class="d-split">
                <div class="d-side d-old"><Value value={null} /></div>
                <div class="d-side d-new"><ins class="d-ins d-whole"><Value value={d().new} /></ins></div>
              </div>
            </Show>
          )}
        </Match>
        <Match when={props.diff.kind === "cleared" && props.diff}>
          {(d) => (
            <Show
              when={layout() === "split"}
              fallback={
                <>
                  <span class="d-tag d-tag-cleared">− cleared</span> <del class="d-del d-whole"><Value value={d().old} /></del>
                  <span class="d-arrow">{" → "}</span>
                  <Value value={null} />
                </>
              }
            >
              <div class="d-split">
                <div class="d-side d-old"><del class="d-del d-whole"><Value value={d().old} /></del></div>
                <div class="d-side d-new"><Value value={null} /></div>
              </div>
            </Show>
          )}
        </Match>
        <Match when={props.diff.kind === "replaced" && props.diff}>
          {(d) => (
            <Show
              when={layout() === "split"}
              fallback={
                <>
                  <del class="d-del d-whole"><Value value={d().old} /></del>
                  <span class="d-arrow" aria-label="becomes">{" → "}</span>
                  <ins class="d-ins d-whole"><Value value={d().new} /></ins>
                </>
              }
            >
              <div class="d-split">
                <div class="d-side d-old"><del class="d-del d-whole"><Value value={d().old} /></del></div>
                <div class="d-side d-new"><ins class="d-ins d-whole"><Value value={d().new} /></ins></div>
              </div>
            </Show>
          )}
        </Match>
        <Match when={props.diff.kind === "unknown" && props.diff}>
          {(d) => (
            <Show
              when={layout() === "split"}
              fallback={
                <>
                  <Unknown />
                  <span class="d-arrow" aria-label="becomes">{" → "}</span>
                  <ins class="d-ins d-whole"><Value value={d().new} /></ins>
                </>
              }
            >
              <div class="d-split">
                <div class="d-side d-old"><Unknown /></div>
                <div class="d-side d-new"><ins class="d-ins d-whole"><Value value={d().new} /></ins></div>
              </div>
            </Show>
          )}
        </Match>
        <Match when={props.diff.kind === "deleted" && props.diff}>
          {(d) => (
            <Show
              when={layout() === "split"}
              fallback={
                <>
                  <span class="d-tag d-tag-cleared">− deleted</span>{" "}
                  <Show when={!props.unknown} fallback={<Unknown />}>
                    <del class="d-del d-whole"><Value value={d().old} /></del>
                  </Show>
                </>
              }
            >
              <div class="d-split">
                <div class="d-side d-old">
                  <Show when={!props.unknown} fallback={<Unknown />}>
                    <del class="d-del d-whole"><Value value={d().old} /></del>
                  </Show>
                </div>
                <div class="d-side d-new"><span class="d-tag d-tag-cleared">deleted</span></div>
              </div>
            </Show>
          )}
        </Match>
        <Match when={props.diff.kind === "text" && props.diff}>
          {(d) => (
            <Show when={layout() === "split"} fallback={<span class="d-text"><Spans spans={d().spans} /></span>}>
              <div class="d-split">
                <div class="d-side d-old d-text"><Spans spans={d().spans} side="old" /></div>
                <div class="d-side d-new d-text"><Spans spans={d().spans} side="new" /></div>
              </div>
            </Show>
          )}
        </Match>
        <Match when={props.diff.kind === "lines" && props.diff}>{(d) => <Lines lines={d().lines} layout={layout()} />}</Match>
        <Match when={props.diff.kind === "json" && props.diff}>{(d) => <JsonChanges changes={d().changes} layout={layout()} />}</Match>
      </Switch>
    </div>
  );
}
