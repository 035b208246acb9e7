import { onCleanup, onMount, type JSX } from "solid-js";
import { Portal } from "solid-js/web";

/** A modal dialog: Esc or a click outside closes it; focus moves in and back out. */
export function Modal(props: { title: string; onClose: () => void; children: JSX.Element; footer?: JSX.Element; narrow?: boolean; testid?: string; head?: JSX.Element }) {
  let box: HTMLDivElement | undefined;
  const prev = typeof document !== "undefined" ? (document.activeElement as HTMLElement | null) : null;
  const onKey = (e: KeyboardEvent) => {
    if (e.key === "Escape") {
      e.preventDefault();
      e.stopPropagation();
      props.onClose();
    }
  };
  onMount(() => {
    document.addEventListener("keydown", onKey, true);
    const first =
      box?.querySelector<HTMLElement>("[data-autofocus]") ??
      box?.querySelector<HTMLElement>(".dlg-body input:not([disabled]), .dlg-body select, .dlg-body textarea") ??
      box?.querySelector<HTMLElement>(".dlg-foot button.primary, .dlg-foot button");
    first?.focus();
  });
  onCleanup(() => {
    document.removeEventListener("keydown", onKey, true);
    prev?.focus?.();
  });
  return (
    <Portal>
      <div
        class="modal-backdrop"
        onMouseDown={(e) => {
          if (e.target === e.currentTarget) props.onClose();
        }}
      >
        <div ref={box} class={"dlg" + (props.narrow ? " narrow" : "")} role="dialog" aria-modal="true" aria-label={props.title} data-testid={props.testid}>
          <div class="dlg-head">
            <h2>{props.title}</h2>
            {props.head}
            <span class="s-flex-1" />
            <button class="ghost small" aria-label="Close" onClick={() => props.onClose()}>
              ✕
            </button>
          </div>
          <div class="dlg-body">{props.children}</div>
          {props.footer ? <div class="dlg-foot">{props.footer}</div> : null}
        </div>
      </div>
    </Portal>
  );
}
