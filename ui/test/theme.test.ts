import { describe, expect, it } from "vitest";
import { applyTheme, cycleTheme, initTheme, theme } from "../src/app/theme";

describe("theme", () => {
  it("cycles system → light → dark, sets data-theme and remembers it", () => {
    initTheme();
    expect(theme()).toBe("system");
    expect(document.documentElement.hasAttribute("data-theme")).toBe(false);
    cycleTheme();
    expect(document.documentElement.getAttribute("data-theme")).toBe("light");
    cycleTheme();
    expect(document.documentElement.getAttribute("data-theme")).toBe("dark");
    expect(localStorage.getItem("rowtrail.theme")).toBe("dark");
    applyTheme("system");
    expect(localStorage.getItem("rowtrail.theme")).toBeNull();
  });

  it("follows the desktop menu setting the attribute", async () => {
    initTheme();
    document.documentElement.setAttribute("data-theme", "dark");
    await new Promise((r) => setTimeout(r, 0));
    expect(theme()).toBe("dark");
    expect(localStorage.getItem("rowtrail.theme")).toBe("dark");
    document.documentElement.removeAttribute("data-theme");
    await new Promise((r) => setTimeout(r, 0));
    expect(theme()).toBe("system");
    expect(localStorage.getItem("rowtrail.theme")).toBeNull();
  });
});
