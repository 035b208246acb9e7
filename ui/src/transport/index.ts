// The only module that knows how the UI reaches the backend: Tauri IPC inside the desktop
// app, HTTP + server-sent events in a browser (`rowtrail serve`), or — in development with
// `?mock` in the URL — an in-memory demo.
import { createSignal } from "solid-js";
import type { ApiEvent, ArgsOf, CommandName, ResultOf } from "../api";
import type { EventHandler, StreamState, Transport } from "./types";
import { createHttpTransport } from "./http";
import { createTauriTransport } from "./tauri";

export { ApiError } from "./errors";
export type { StreamState } from "./types";

let current: Promise<Transport> | null = null;

/** Inside the Tauri webview the shell injects `__TAURI_INTERNALS__`. */
export function isTauri(win: object = globalThis): boolean {
  return "__TAURI_INTERNALS__" in win && Boolean((win as Record<string, unknown>).__TAURI_INTERNALS__);
}

function wantsMock(): boolean {
  return typeof location !== "undefined" && new URLSearchParams(location.search).has("mock");
}

async function select(): Promise<Transport> {
  if (isTauri()) return createTauriTransport();
  // Only in development or a `--mode mock` build: production builds do not even bundle it.
  if ((import.meta.env.DEV || import.meta.env.MODE === "mock") && wantsMock()) {
    const m = await import("./mock");
    return m.createMockTransport();
  }
  return createHttpTransport({
    fetch: (...a) => globalThis.fetch(...a),
    EventSource: globalThis.EventSource,
    location: globalThis.location,
    history: globalThis.history,
    storage: globalThis.sessionStorage,
  });
}

/** The transport in use (chosen once, on first use). Tests may pass their own. */
export function transport(): Promise<Transport> {
  if (!current) current = select();
  return current;
}

/** Replaces the transport (tests) or forgets it so the next call selects again (`null`). */
export function setTransport(t: Transport | null): void {
  if (unsubscribeStream) unsubscribeStream();
  unsubscribeStream = null;
  lastState = "connecting";
  setConnected("connecting");
  current = t ? Promise.resolve(t) : null;
}

/**
 * Saves an export as a file streamed by the browser, when the transport can (`rowtrail
 * serve`); false when it cannot (the desktop app), and the caller uses the command instead.
 */
export async function download(path: string, query: Record<string, string>): Promise<boolean> {
  const t = await transport();
  if (!t.download) return false;
  await t.download(path, query);
  return true;
}

/** Calls one API command. Rejects with an {@link ApiError}. */
export async function call<C extends CommandName>(command: C, args: ArgsOf<C>): Promise<ResultOf<C>> {
  const t = await transport();
  return (await t.call(command, args)) as ResultOf<C>;
}

const handlers = new Set<EventHandler>();
const stateHandlers = new Set<(s: StreamState) => void>();
let unsubscribeStream: (() => void) | null = null;
let lastState: StreamState = "connecting";
const [connected, setConnected] = createSignal<Connection>("connecting");

/** The backend as the user should see it: not reached yet, reached, or lost after that. */
export type Connection = "connecting" | "open" | "disconnected";

/**
 * Whether the backend is reachable, from the event stream's state (reactive). While it is
 * "disconnected", screens say so and stop their spinners: nothing they wait for can come.
 */
export function connection(): Connection {
  return connected();
}

function dispatch(ev: ApiEvent) {
  for (const h of [...handlers]) {
    try {
      h(ev);
    } catch (e) {
      console.error("event handler failed", e);
    }
  }
}

function ensureStream() {
  if (unsubscribeStream) return;
  let stopped = false;
  let stop: (() => void) | null = null;
  unsubscribeStream = () => {
    stopped = true;
    stop?.();
  };
  void transport().then((t) => {
    if (stopped) return;
    let opened = false;
    stop = t.connect(dispatch, (s) => {
      // Back after a break: events may have been missed; say so like a lagging stream does.
      const reopened = s === "open" && opened && lastState !== "open";
      if (s === "open") opened = true;
      lastState = s;
      setConnected(s === "open" ? "open" : opened ? "disconnected" : "connecting");
      for (const h of [...stateHandlers]) h(s);
      if (reopened) dispatch({ type: "lagged", missed: 0 });
    });
  });
}

/** Receives every backend event (progress, new changes, source state). Returns an unsubscribe. */
export function subscribe(handler: EventHandler): () => void {
  handlers.add(handler);
  ensureStream();
  return () => handlers.delete(handler);
}

/** Follows the event stream's connection state. */
export function onStreamState(handler: (s: StreamState) => void): () => void {
  stateHandlers.add(handler);
  handler(lastState);
  ensureStream();
  return () => stateHandlers.delete(handler);
}
