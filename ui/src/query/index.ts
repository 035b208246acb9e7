import { createMemo, onCleanup, type Accessor } from "solid-js";
import type { ArgsOf, CommandName, ResultOf } from "../api";
import { call } from "../transport";
import { queryClient, type QueryClient, type QueryState, type Tag } from "./client";

export { QueryClient, queryClient, tagsForEvent } from "./client";
export type { QueryState, Tag } from "./client";

/** The cache key of one API call. */
export function queryKey(command: string, args: unknown): string {
  return command + ":" + JSON.stringify(args);
}

export interface QueryHandle<T> {
  (): QueryState<T>;
  data: Accessor<T | undefined>;
  error: Accessor<QueryState<T>["error"]>;
  loading: Accessor<boolean>;
  refetch: () => void;
}

/**
 * A reactive API query: `spec()` returns the command and its arguments (or null to wait).
 * Refreshes when `spec` changes or when an event invalidates one of its tags.
 */
export function createQuery<C extends CommandName>(
  spec: () => { command: C; args: ArgsOf<C>; tags?: Tag[] } | null,
  client: QueryClient = queryClient,
): QueryHandle<ResultOf<C>> {
  const key = createMemo(
    () => {
      const s = spec();
      return s ? { key: queryKey(s.command, s.args), s } : null;
    },
    undefined,
    { equals: (a, b) => a?.key === b?.key },
  );
  const empty: QueryState<ResultOf<C>> = { data: undefined, error: null, loading: false };
  const state = createMemo<Accessor<QueryState<ResultOf<C>>> | null>(() => {
    const k = key();
    if (!k) return null;
    const w = client.watch(k.key, () => call(k.s.command, k.s.args), k.s.tags ?? [k.s.command]);
    onCleanup(w.release);
    return w.state;
  });
  const read = () => {
    const s = state();
    return s ? s() : empty;
  };
  const handle = read as QueryHandle<ResultOf<C>>;
  handle.data = () => read().data;
  handle.error = () => read().error;
  handle.loading = () => read().loading || (key() !== null && read().data === undefined && read().error === null);
  handle.refetch = () => {
    const k = key();
    if (k) client.invalidate((_t, key) => key === k.key);
  };
  return handle;
}
