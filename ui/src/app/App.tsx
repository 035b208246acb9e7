import { createEffect, createSignal, Match, onCleanup, Show, Switch } from "solid-js";
import { RouterContext } from "./context";
import { createRouter, to } from "../router";
import { connection, isTauri, onStreamState, subscribe, type StreamState } from "../transport";
import { queryClient } from "../query";
import { cycleTheme, theme } from "./theme";
import { ChangesScreen } from "../screens/changes/ChangesScreen";
import { SourcesScreen } from "../screens/sources/SourcesScreen";
import { RecordScreen } from "../screens/record/RecordScreen";
import { TransactionScreen } from "../screens/transaction/TransactionScreen";
import { EmptyState } from "../components/EmptyState";

export function App() {
  const router = createRouter();
  onCleanup(router.dispose);
  const [stream, setStream] = createSignal<StreamState>("connecting");
  onCleanup(onStreamState(setStream));
  onCleanup(subscribe(queryClient.batchedHandler(500)));

  // The window title names the screen (and what it shows).
  createEffect(() => {
    const r = router.route();
    document.title =
      r.name === "record"
        ? `${r.table} ${r.key.join(" ")} — Rowtrail`
        : r.name === "txn"
          ? `Transaction ${r.txid} — Rowtrail`
          : r.name === "sources"
            ? "Sources — Rowtrail"
            : "Changes — Rowtrail";
  });

  const section = () => {
    const r = router.route();
    return r.name === "record" || r.name === "txn" || r.name === "notfound" ? "changes" : r.name;
  };

  return (
    <RouterContext.Provider value={router}>
      <div class="app">
        <header class="topbar">
          <a class="brand" href={to.changes()}>
            <span class="brand-mark" aria-hidden="true" />
            Rowtrail
          </a>
          <nav class="nav" aria-label="Main">
            <a href={to.changes()} aria-current={section() === "changes" ? "page" : undefined} data-testid="nav-changes">
              Changes
            </a>
            <a href={to.sources()} aria-current={section() === "sources" ? "page" : undefined} data-testid="nav-sources">
              Sources
            </a>
          </nav>
          <div class="topbar-right">
            <span data-testid="stream-state" data-state={connection() === "disconnected" ? "disconnected" : stream()} title="Live updates from the backend">
              {stream() === "open"
                ? ""
                : stream() === "closed"
                  ? "Live updates stopped — reload the page to reconnect"
                  : connection() === "disconnected"
                    ? isTauri()
                      ? "Disconnected from the backend — reconnecting…"
                      : "Disconnected — this page reconnects when `rowtrail serve` runs again"
                    : "Connecting…"}
            </span>
            {/* In the desktop app the View → Theme menu owns the theme (it remembers it). */}
            <Show when={!isTauri()}>
              <button class="ghost small" onClick={cycleTheme} data-testid="theme-toggle" title="Theme: follows the system, or forced light/dark">
                {theme() === "system" ? "◐ System" : theme() === "light" ? "☀ Light" : "☾ Dark"}
              </button>
            </Show>
          </div>
        </header>
        <main class="screen">
          <Switch>
            <Match when={router.route().name === "changes"}>
              <ChangesScreen />
            </Match>
            <Match when={router.route().name === "sources"}>
              <SourcesScreen />
            </Match>
            <Match when={router.route().name === "record"}>
              <RecordScreen />
            </Match>
            <Match when={router.route().name === "txn"}>
              <TransactionScreen />
            </Match>
            <Match when={router.route().name === "notfound"}>
              <EmptyState title="Nothing here" testid="not-found" actions={<a class="btn" href={to.changes()}>Go to all changes</a>}>
                This address does not name a screen of Rowtrail.
              </EmptyState>
            </Match>
          </Switch>
        </main>
      </div>
    </RouterContext.Provider>
  );
}
