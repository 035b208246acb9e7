// The one place that names the API types file. While the generated `types.ts` does not exist
// this re-exports the hand-written placeholder; switch the path when it lands.
export * from "./types.placeholder";
import type { Commands } from "./types.placeholder";

export type CommandName = keyof Commands;
export type ArgsOf<C extends CommandName> = Commands[C]["args"];
export type ResultOf<C extends CommandName> = Commands[C]["result"];
