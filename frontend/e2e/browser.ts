/** Debian's Chromium, headless, driven by playwright-core (Playwright's own browser download can't work here). */
import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type Page } from "playwright-core";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
// The README's screenshots by default; HARUCHAT_SCREENSHOTS_DIR puts them elsewhere (to look at without touching docs/).
const SCREENSHOTS = process.env.HARUCHAT_SCREENSHOTS_DIR || fileURLToPath(new URL("../../docs/screenshots", import.meta.url));

export function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage"],
  });
}

/**
 * Screenshots for the README, written only when asked for (`make screenshots`). `whole` takes the whole
 * page: the app scrolls inside its main pane, so the window is made as tall as that pane for the shot.
 */
export async function screenshot(page: Page, name: string, whole = false): Promise<void> {
  if (process.env.HARUCHAT_SCREENSHOTS !== "1") return;
  mkdirSync(SCREENSHOTS, { recursive: true });
  const size = page.viewportSize();
  const height = whole
    ? await page.evaluate(() => Math.max(document.documentElement.scrollHeight, document.querySelector(".main")?.scrollHeight ?? 0))
    : 0;
  if (size && height > size.height) await page.setViewportSize({ width: size.width, height });
  await page.screenshot({ path: `${SCREENSHOTS}/${name}.png` });
  if (size && height > size.height) await page.setViewportSize(size);
}
