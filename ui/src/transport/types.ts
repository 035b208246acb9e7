import type { ApiEvent } from "../api";

export type EventHandler = (event: ApiEvent) => void;

/** Connection state of the event stream, for a "reconnecting" hint. */
export type StreamState = "connecting" | "open" | "closed";

export interface Transport {
  readonly kind: "tauri" | "http" | "mock";
  call(command: string, args: unknown): Promise<unknown>;
  /**
   * Starts the event stream (once) and calls `onEvent` for every event. `onReopen` runs when
   * the stream reconnected after a break (events may have been missed).
   */
  connect(onEvent: EventHandler, onState: (s: StreamState) => void): () => void;
  /**
   * Saves what `GET /api/{path}?{query}` answers as a file, streamed by the browser (HTTP
   * only; the desktop app has no such endpoint and uses the command's text instead).
   */
  download?(path: string, query: Record<string, string>): Promise<void>;
}
