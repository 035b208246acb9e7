// A tiny hash router: `#/changes?…`, `#/record/{source}/{schema.table}/{key…}`,
// `#/txn/{source}/{txid}`, `#/sources`. Back/forward and deep links work because the hash
// is the only state.
import { createSignal, type Accessor } from "solid-js";

export type Query = Record<string, string>;

export type Route =
  | { name: "changes"; query: Query }
  | { name: "sources"; query: Query }
  | { name: "record"; source: string; table: string; key: string[]; query: Query }
  | { name: "txn"; source: string; txid: string; query: Query }
  | { name: "notfound"; path: string; query: Query };

function dec(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Percent-encodes a path segment (slashes included, so keys may hold any character). */
function enc(s: string): string {
  return encodeURIComponent(s);
}

export function parseQuery(qs: string): Query {
  const q: Query = {};
  for (const part of qs.split("&")) {
    if (!part) continue;
    const i = part.indexOf("=");
    const k = dec((i < 0 ? part : part.slice(0, i)).replace(/\+/g, " "));
    const v = i < 0 ? "" : dec(part.slice(i + 1).replace(/\+/g, " "));
    if (k) q[k] = v;
  }
  return q;
}

export function formatQuery(q: Query): string {
  const parts = Object.entries(q)
    .filter(([, v]) => v !== "" && v !== undefined && v !== null)
    .map(([k, v]) => enc(k) + "=" + enc(v));
  return parts.length ? "?" + parts.join("&") : "";
}

/** Parses `location.hash` into a route. An empty hash is the Changes screen. */
export function parseHash(hash: string): Route {
  let h = hash.replace(/^#/, "");
  if (!h.startsWith("/")) h = "/" + h;
  const qi = h.indexOf("?");
  const path = qi < 0 ? h : h.slice(0, qi);
  const query = qi < 0 ? {} : parseQuery(h.slice(qi + 1));
  const segs = path.split("/").filter((s) => s !== "").map(dec);
  const [head, ...rest] = segs;
  switch (head) {
    case undefined:
    case "changes":
      if (rest.length === 0) return { name: "changes", query };
      break;
    case "sources":
      if (rest.length === 0) return { name: "sources", query };
      break;
    case "record":
      if (rest.length >= 3) return { name: "record", source: rest[0]!, table: rest[1]!, key: rest.slice(2), query };
      break;
    case "txn":
      if (rest.length === 2) return { name: "txn", source: rest[0]!, txid: rest[1]!, query };
      break;
  }
  return { name: "notfound", path, query };
}

/** The hash (with `#`) of a route. */
export function formatRoute(r: Route): string {
  const q = formatQuery(r.query);
  switch (r.name) {
    case "changes":
      return "#/changes" + q;
    case "sources":
      return "#/sources" + q;
    case "record":
      return "#/record/" + [r.source, r.table, ...r.key].map(enc).join("/") + q;
    case "txn":
      return "#/txn/" + enc(r.source) + "/" + enc(r.txid) + q;
    case "notfound":
      return "#" + r.path + q;
  }
}

/** Route builders for links. */
export const to = {
  changes: (query: Query = {}) => formatRoute({ name: "changes", query }),
  sources: () => formatRoute({ name: "sources", query: {} }),
  record: (source: string, table: string, key: string[], query: Query = {}) => formatRoute({ name: "record", source, table, key, query }),
  /** `row`: the transaction's cache row, exact when a txid repeats (wraparound, several sources). */
  txn: (source: string, txid: string, row?: number) => formatRoute({ name: "txn", source, txid, query: row !== undefined ? { row: String(row) } : {} }),
};

export interface Router {
  route: Accessor<Route>;
  /** Goes to a hash (`#/…`) or route; `replace` keeps the history entry (filters typing). */
  navigate: (to: string | Route, opts?: { replace?: boolean }) => void;
  back: () => void;
  dispose: () => void;
}

type Win = Pick<Window, "addEventListener" | "removeEventListener"> & {
  location: Pick<Location, "hash" | "pathname" | "search">;
  history: Pick<History, "pushState" | "replaceState" | "back" | "state">;
};

export function createRouter(win: Win = window): Router {
  const [route, setRoute] = createSignal<Route>(parseHash(win.location.hash), { equals: false });
  const sync = () => setRoute(parseHash(win.location.hash));
  win.addEventListener("hashchange", sync);
  win.addEventListener("popstate", sync);
  return {
    route,
    navigate(target, opts) {
      const hash = typeof target === "string" ? target : formatRoute(target);
      if (hash === win.location.hash) return;
      const url = win.location.pathname + win.location.search + hash;
      if (opts?.replace) win.history.replaceState(null, "", url);
      else win.history.pushState(null, "", url);
      sync();
    },
    back: () => win.history.back(),
    dispose() {
      win.removeEventListener("hashchange", sync);
      win.removeEventListener("popstate", sync);
    },
  };
}
