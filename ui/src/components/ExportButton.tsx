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

/** "Export CSV / JSON": asks the backend for the text, then downloads it. */
export function ExportButton(props: { what: string; run: (format: ExportFormat) => Promise<ExportText>; onError: (e: ApiError) => void; testid?: string }) {
  const [busy, setBusy] = createSignal<ExportFormat | null>(null);
  const [note, setNote] = createSignal<string | null>(null);
  let hide: ReturnType<typeof setTimeout> | undefined;
  onCleanup(() => clearTimeout(hide));
  const go = async (format: ExportFormat) => {
    setBusy(format);
    setNote(null);
    try {
      const file = await props.run(format);
      downloadText(file);
      setNote(
        file.truncated
          ? `Saved the first ${file.rows.toLocaleString("en-US")} rows (the export limit); narrow the filters, or use \`rowtrail events --json\` for everything.`
          : `Saved ${file.filename} (${file.rows.toLocaleString("en-US")} rows).`,
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
