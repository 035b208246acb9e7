// Mounting components and screens in jsdom for the UI tests, with the cleanup every test needs
// (importing this module registers it): unmount, empty page, no transport, no route.
import { afterEach } from "vitest";
import { render } from "solid-js/web";
import { RouterContext } from "../src/app/context";
import { createRouter } from "../src/router";
import { setTransport } from "../src/transport";

const mounted: (() => void)[] = [];
afterEach(() => {
  unmount();
  document.body.innerHTML = "";
  setTransport(null);
  location.hash = "";
});

/** Renders `f` into a fresh element on the page; unmounted after the test. */
export function mount(f: () => unknown): HTMLElement {
  const el = document.createElement("div");
  document.body.appendChild(el);
  mounted.push(render(f as never, el));
  return el;
}

/** Unmounts everything mounted so far (to mount afresh within one test). */
export function unmount(): void {
  for (const d of mounted.splice(0)) d();
}

/** Renders `Screen` at route `hash` with a router, the backend answering each command from `answers`. */
export function screen(hash: string, answers: Record<string, unknown>, Screen: () => unknown): HTMLElement {
  setTransport({ kind: "mock", call: async (c) => answers[c] ?? {}, connect: () => () => {} });
  location.hash = hash;
  return mount(() => {
    const router = createRouter();
    return <RouterContext.Provider value={router}>{Screen() as never}</RouterContext.Provider>;
  });
}
