// Starting and stopping `rowtrail serve` for the browser tests (run.mjs) and the UI benchmark
// (bench.mjs): the process, the address it prints, and a bounded stop.

import { spawn } from "node:child_process";

/**
 * Starts `BIN …args` (a `rowtrail … serve …` command line) and resolves, within `timeoutMs`,
 * once it prints its address: `{ child, url, origin, port, token, log }` (`log()` is everything
 * it printed so far). Rejects with that output if it exits or prints no address in time.
 */
export function startServe(bin, args, timeoutMs = 60_000) {
  return new Promise((res, rej) => {
    const child = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    const log = () => out;
    const timer = setTimeout(() => rej(new Error(`rowtrail serve printed no URL within ${timeoutMs / 1000} s:\n${out}`)), timeoutMs);
    child.stdout.on("data", (chunk) => {
      out += chunk.toString();
      const m = out.match(/((http:\/\/127\.0\.0\.1:(\d+))\/#token=([0-9a-f]+))/);
      if (m) {
        clearTimeout(timer);
        res({ child, url: m[1], origin: m[2], port: Number(m[3]), token: m[4], log });
      }
    });
    child.stderr.on("data", (c) => (out += c.toString()));
    child.on("error", (e) => {
      clearTimeout(timer);
      rej(e);
    });
    child.on("exit", (code, sig) => {
      clearTimeout(timer);
      rej(new Error(`rowtrail serve exited early (${code ?? sig}):\n${out}`));
    });
  });
}

/** Stops a server started by {@link startServe}: SIGTERM, then SIGKILL after 5 s. */
export async function stopServe(child) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  const wait = (ms) => new Promise((r) => setTimeout(() => r(false), ms));
  child.kill("SIGTERM");
  if (!(await Promise.race([exited.then(() => true), wait(5_000)]))) {
    child.kill("SIGKILL");
    await Promise.race([exited, wait(2_000)]);
  }
}
