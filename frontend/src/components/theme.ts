/**
 * Light or dark. By default the page follows the system (prefers-color-scheme, in styles.css alone);
 * a member's own choice is kept in localStorage and set as <html data-theme="light|dark">, which wins.
 */
import { useSyncExternalStore } from "react";

export type ThemeChoice = "system" | "light" | "dark";
export type Theme = "light" | "dark";

const STORAGE_KEY = "haruchat.theme";
const DARK_QUERY = "(prefers-color-scheme: dark)";

export function storedThemeChoice(): ThemeChoice {
  const stored = localStorage.getItem(STORAGE_KEY);
  return stored === "light" || stored === "dark" ? stored : "system";
}

const systemTheme = (): Theme => (window.matchMedia?.(DARK_QUERY).matches ? "dark" : "light");

/** The theme the page shows: the member's choice, else the system's. */
export function resolvedTheme(): Theme {
  const choice = storedThemeChoice();
  return choice === "system" ? systemTheme() : choice;
}

/** Puts the stored choice on <html>; "system" leaves the attribute off so the CSS media query decides. */
export function applyStoredTheme(): void {
  const choice = storedThemeChoice();
  if (choice === "system") delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = choice;
}

const listeners = new Set<() => void>();

export function setThemeChoice(choice: ThemeChoice): void {
  if (choice === "system") localStorage.removeItem(STORAGE_KEY);
  else localStorage.setItem(STORAGE_KEY, choice);
  applyStoredTheme();
  listeners.forEach((listener) => listener());
}

/** Told when the choice changes here or in another tab, or the system's scheme changes. */
function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  const media = window.matchMedia?.(DARK_QUERY);
  media?.addEventListener?.("change", listener);
  const fromOtherTab = (event: StorageEvent) => {
    if (event.key !== STORAGE_KEY) return;
    applyStoredTheme();
    listener();
  };
  window.addEventListener("storage", fromOtherTab);
  return () => {
    listeners.delete(listener);
    media?.removeEventListener?.("change", listener);
    window.removeEventListener("storage", fromOtherTab);
  };
}

export const useThemeChoice = (): ThemeChoice => useSyncExternalStore(subscribe, storedThemeChoice);

/** For what CSS can't restyle by itself, such as colours drawn on a canvas. */
export const useResolvedTheme = (): Theme => useSyncExternalStore(subscribe, resolvedTheme);
