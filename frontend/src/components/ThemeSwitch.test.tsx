import { act, cleanup, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { I18nProvider } from "../i18n";
import { ThemeSwitch } from "./ThemeSwitch";
import { applyStoredTheme, useResolvedTheme } from "./theme";

/** A system that prefers dark (or not), and can change its mind like a real one. */
function stubSystemScheme(dark: boolean) {
  const listeners = new Set<() => void>();
  const media = {
    get matches() {
      return dark;
    },
    addEventListener: (_: string, listener: () => void) => listeners.add(listener),
    removeEventListener: (_: string, listener: () => void) => listeners.delete(listener),
  };
  vi.stubGlobal("matchMedia", (query: string) => {
    expect(query).toBe("(prefers-color-scheme: dark)");
    return media;
  });
  return {
    switchTo(next: boolean) {
      dark = next;
      listeners.forEach((listener) => listener());
    },
  };
}

function ShownTheme() {
  return <output data-testid="theme">{useResolvedTheme()}</output>;
}

function renderSwitch() {
  return render(
    <I18nProvider>
      <ThemeSwitch />
      <ShownTheme />
    </I18nProvider>,
  );
}

const theme = () => screen.getByTestId("theme").textContent;

describe("ThemeSwitch", () => {
  beforeEach(() => {
    localStorage.clear();
    localStorage.setItem("haruchat.lang", "en");
    delete document.documentElement.dataset.theme;
  });
  afterEach(() => {
    cleanup();
    vi.unstubAllGlobals();
  });

  it("follows the system by default, and when the system changes", () => {
    const system = stubSystemScheme(true);
    renderSwitch();
    expect(screen.getByRole("radio", { name: "Match the system" })).toHaveProperty("checked", true);
    expect(screen.getByRole("group", { name: "Theme" })).toBeTruthy();
    // No attribute: the CSS media query decides.
    expect(document.documentElement.dataset.theme).toBeUndefined();
    expect(theme()).toBe("dark");
    act(() => system.switchTo(false));
    expect(theme()).toBe("light");
  });

  it("sets the chosen theme on the page and remembers it", () => {
    stubSystemScheme(false);
    const { unmount } = renderSwitch();
    fireEvent.click(screen.getByRole("radio", { name: "Dark" }));
    expect(document.documentElement.dataset.theme).toBe("dark");
    expect(localStorage.getItem("haruchat.theme")).toBe("dark");
    expect(theme()).toBe("dark");
    unmount();

    // A new visit: the stored choice is put back before anything renders, and the switch shows it.
    delete document.documentElement.dataset.theme;
    applyStoredTheme();
    expect(document.documentElement.dataset.theme).toBe("dark");
    renderSwitch();
    expect(screen.getByRole("radio", { name: "Dark" })).toHaveProperty("checked", true);

    fireEvent.click(screen.getByRole("radio", { name: "Light" }));
    expect(document.documentElement.dataset.theme).toBe("light");
    fireEvent.click(screen.getByRole("radio", { name: "Match the system" }));
    expect(document.documentElement.dataset.theme).toBeUndefined();
    expect(localStorage.getItem("haruchat.theme")).toBeNull();
    expect(theme()).toBe("light");
  });

  it("names its choices in Korean too", () => {
    stubSystemScheme(false);
    localStorage.setItem("haruchat.lang", "ko");
    renderSwitch();
    expect(screen.getByRole("group", { name: "화면 테마" })).toBeTruthy();
    expect(screen.getByRole("radio", { name: "어둡게" })).toBeTruthy();
  });
});
