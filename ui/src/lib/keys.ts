// Keyboard navigation of lists: j/k (or arrows) move, Enter opens, / focuses the search,
// Esc closes or clears; Home/End jump to the first/last row. Pure, so it is unit-tested.

export type ListKeyAction =
  | { type: "move"; index: number }
  | { type: "open"; index: number }
  | { type: "focusSearch" }
  | { type: "escape" }
  | null;

export interface KeyLike {
  key: string;
  ctrlKey?: boolean;
  metaKey?: boolean;
  altKey?: boolean;
  target?: EventTarget | null;
}

export function isEditable(t: EventTarget | null | undefined): boolean {
  if (!t || typeof (t as HTMLElement).tagName !== "string") return false;
  const el = t as HTMLElement;
  const tag = el.tagName.toLowerCase();
  if (tag === "textarea" || tag === "select") return true;
  if (tag === "input") {
    const type = ((el as HTMLInputElement).type || "text").toLowerCase();
    return !["checkbox", "radio", "button", "submit", "reset"].includes(type);
  }
  return el.isContentEditable === true;
}

/**
 * Whether `t` is a control that Enter or Space acts on by itself (a button, a link, a
 * checkbox, a summary, a tab…): list shortcuts leave those keys to it.
 */
export function isControl(t: EventTarget | null | undefined): boolean {
  if (!t || typeof (t as HTMLElement).tagName !== "string") return false;
  const el = t as HTMLElement;
  const tag = el.tagName.toLowerCase();
  if (tag === "button" || tag === "summary" || tag === "input" || tag === "select" || tag === "textarea") return true;
  if (tag === "a" && el.hasAttribute("href")) return true;
  const role = el.getAttribute?.("role") ?? "";
  return ["button", "link", "tab", "checkbox", "radio", "menuitem", "switch"].includes(role);
}

/**
 * What a key press does to a list of `count` rows whose selected row is `selected` (-1: none).
 * `pageRows` is how many rows PageUp/PageDown move.
 */
export function listKeyAction(e: KeyLike, state: { count: number; selected: number; pageRows?: number }): ListKeyAction {
  if (e.ctrlKey || e.metaKey || e.altKey) return null;
  if (isEditable(e.target)) return e.key === "Escape" ? { type: "escape" } : null;
  // Enter on a focused button presses the button; it never opens the selected row.
  if ((e.key === "Enter" || e.key === " ") && isControl(e.target)) return null;
  const { count, selected } = state;
  const page = Math.max(1, state.pageRows ?? 20);
  const clamp = (i: number) => Math.max(0, Math.min(count - 1, i));
  switch (e.key) {
    case "j":
    case "ArrowDown":
      return count ? { type: "move", index: selected < 0 ? 0 : clamp(selected + 1) } : null;
    case "k":
    case "ArrowUp":
      return count ? { type: "move", index: selected < 0 ? 0 : clamp(selected - 1) } : null;
    case "PageDown":
      return count ? { type: "move", index: clamp(Math.max(0, selected) + page) } : null;
    case "PageUp":
      return count ? { type: "move", index: clamp(Math.max(0, selected) - page) } : null;
    case "Home":
    case "g":
      return count ? { type: "move", index: 0 } : null;
    case "End":
    case "G":
      return count ? { type: "move", index: count - 1 } : null;
    case "Enter":
    case "o":
      return selected >= 0 && selected < count ? { type: "open", index: selected } : null;
    case "/":
      return { type: "focusSearch" };
    case "Escape":
      return { type: "escape" };
    default:
      return null;
  }
}
