import { createSignal, onCleanup, Show } from "solid-js";
import type { ExportFormat, ExportText } from "../api";
import { ApiError } from "../transport/errors";
import { Spinner } from "./Spinner";

/** Saves text the backend produced as a file download. */
export function downloadText(file: ExportText): void {
  const blob = new Blob([file.text], { type: file.content_type || "text/plain" });
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = file.filename;
  a.rel = "noopener";
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/**
 * "Export CSV / JSON". With `stream` (the browser face), the browser saves the file as the
 * server streams it, every row in the list's order; `stream` answers false where that is not
 * possible (the desktop app), and `run` asks the backend for the text instead.
 */
export function ExportButton(props: {
  what: string;
  run: (format: ExportFormat) => Promise<ExportText>;
  stream?: (format: ExportFormat) => Promise<string | null>;
  onError: (e: ApiError) => void;
  testid?: string;
}) {
  const [busy, setBusy] = createSignal<ExportFormat | null>(null);
  const [note, setNote] = createSignal<string | null>(null);
  let hide: ReturnType<typeof setTimeout> | undefined;
  onCleanup(() => clearTimeout(hide));
  const go = async (format: ExportFormat) => {
    setBusy(format);
    setNote(null);
    try {
      const streamed = props.stream ? await props.stream(format) : null;
      if (streamed !== null) {
        setNote(streamed);
        clearTimeout(hide);
        hide = setTimeout(() => setNote(null), 6_000);
        return;
      }
      const file = await props.run(format);
      downloadText(file);
      const n = (x: number) => x.toLocaleString("en-US");
      setNote(
        file.truncated
          ? `Saved the first ${n(file.rows)} of ${n(file.total)} rows, as listed (the export limit): the last ${n(file.total - file.rows)} are not in the file. Narrow the filters, or use \`rowtrail events --json\` for everything.`
          : `Saved ${file.filename} (${n(file.rows)} rows).`,
      );
      clearTimeout(hide);
      hide = setTimeout(() => setNote(null), file.truncated ? 12_000 : 4_000);
    } catch (e) {
      props.onError(ApiError.from(e));
    } finally {
      setBusy(null);
    }
  };
  return (
    <span class="seg export" data-testid={props.testid ?? "export"} role="group" aria-label={`Export ${props.what}`}>
      <Show when={note()}>
        <span class="export-note" role="status" data-testid="export-note">
          {note()}
        </span>
      </Show>
      {(["csv", "json"] as const).map((f) => (
        <button class="small" onClick={() => go(f)} disabled={busy() !== null} title={`Download ${props.what} as ${f.toUpperCase()}`} data-testid={`export-${f}`}>
          <Show when={busy() === f} fallback={<span aria-hidden="true">↓</span>}>
            <Spinner label="Exporting" />
          </Show>
          {f.toUpperCase()}
        </button>
      ))}
    </span>
  );
}
