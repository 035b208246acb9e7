import { invoke, Channel } from "@tauri-apps/api/core";
import type { ApiEvent } from "../api";
import type { Transport } from "./types";
import { ApiError } from "./errors";

/** The desktop shell: one `rpc` command for every API command, one `subscribe` channel. */
export function createTauriTransport(): Transport {
  return {
    kind: "tauri",
    async call(command, args) {
      try {
        return await invoke("rpc", { command, args: args ?? {} });
      } catch (e) {
        throw ApiError.from(e);
      }
    },
    connect(onEvent, onState) {
      const channel = new Channel<ApiEvent>();
      channel.onmessage = (ev) => onEvent(ev);
      onState("connecting");
      invoke("subscribe", { channel }).then(
        () => onState("open"),
        () => onState("closed"),
      );
      return () => {
        channel.onmessage = () => {};
      };
    },
  };
}
