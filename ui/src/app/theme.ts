// Theme: follows the system unless forced with data-theme on <html> — by the desktop shell's
// View menu (it sets the attribute, and remembers it) or, in a browser, by the toolbar button
// (remembered in localStorage).
import { createSignal } from "solid-js";

export type ThemeChoice = "system" | "light" | "dark";
const KEY = "rowtrail.theme";

function read(): ThemeChoice {
  try {
    const v = localStorage.getItem(KEY);
    return v === "light" || v === "dark" ? v : "system";
  } catch {
    return "system";
  }
}

const [theme, setThemeSignal] = createSignal<ThemeChoice>("system");
export { theme };

function persist(t: ThemeChoice): void {
  try {
    if (t === "system") localStorage.removeItem(KEY);
    else localStorage.setItem(KEY, t);
  } catch {
    /* storage unavailable */
  }
}

export function applyTheme(t: ThemeChoice): void {
  setThemeSignal(t);
  const root = document.documentElement;
  if (t === "system") root.removeAttribute("data-theme");
  else root.setAttribute("data-theme", t);
  persist(t);
}

export function initTheme(): void {
  const attr = document.documentElement.getAttribute("data-theme");
  applyTheme(attr === "light" || attr === "dark" ? attr : read());
  // The shell's View menu sets the attribute directly: follow it, and remember it as if chosen here.
  new MutationObserver(() => {
    const a = document.documentElement.getAttribute("data-theme");
    const t: ThemeChoice = a === "light" || a === "dark" ? a : "system";
    if (t !== theme()) {
      setThemeSignal(t);
      persist(t);
    }
  }).observe(document.documentElement, { attributes: true, attributeFilter: ["data-theme"] });
}

export function cycleTheme(): void {
  const order: ThemeChoice[] = ["system", "light", "dark"];
  applyTheme(order[(order.indexOf(theme()) + 1) % order.length]!);
}
