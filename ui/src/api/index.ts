// The one place that names the API types file. While the generated `types.ts` does not exist
// this re-exports the hand-written placeholder; switch the path when it lands.
export * from "./types";
import type { Commands, ServerEvent } from "./types";

export type CommandName = keyof Commands;
export type ArgsOf<C extends CommandName> = Commands[C][0];
export type ResultOf<C extends CommandName> = Commands[C][1];
/** Pushed by the backend (Tauri channel / server-sent events). */
export type ApiEvent = ServerEvent;
