/**
 * Reading and writing comfort in real headless Chromium against a real backend on the embedded model:
 * the tab and the header follow the conversation's title, a code block in an answer is coloured (its
 * highlighter downloaded only then) and copied, an answer is copied whole, and the theme follows the
 * system until the member picks one, which a reload remembers (applied before the app's code arrives, so
 * no flash), on a desktop and on a phone.
 */
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { launch, screenshot } from "./browser";
import { apiCall } from "./http";

const baseUrl = inject("baseUrl");
const admin = inject("admin");
const member = { email: `comfort-${Date.now()}@example.com`, password: "a comfortable pass phrase", nickname: "Comfy" };
// At temperature 0 the embedded model answers this with a fenced Python block.
const QUESTION = "Write a Python function that adds two numbers.";

let browser: Browser;
let context: BrowserContext;
let page: Page;
let conversationId = 0;
const highlighterRequests: string[] = [];

const call = <T>(path: string, body: unknown, token?: string) => apiCall<T>(baseUrl, path, { method: "POST", body, token });

async function logIn(target: Page, who: { email: string; password: string }) {
  await target.goto(`${baseUrl}/#/login`);
  await target.getByLabel("Email").fill(who.email);
  await target.getByLabel("Password").fill(who.password);
  await target.getByRole("button", { name: "Log in" }).click();
  await target.locator(".sidebar").waitFor();
}

const background = (target: Page) => target.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
const LIGHT_BG = "rgb(251, 250, 247)";
const DARK_BG = "rgb(23, 24, 27)";

beforeAll(async () => {
  browser = await launch();
  const { access } = await call<{ access: string }>("/api/auth/signup", member);
  const conversation = await call<{ id: number }>(
    "/api/conversations",
    { assistant: "free-chat", temperature: 0, max_tokens: 160 },
    access,
  );
  conversationId = conversation.id;
  context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: "en-US", colorScheme: "light" });
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: baseUrl });
  page = await context.newPage();
  page.on("request", (request) => {
    if (/\/assets\/highlight-[^/]*\.js$/.test(request.url())) highlighterRequests.push(request.url());
  });
});

afterAll(async () => {
  await browser?.close();
});

describe("reading and writing comfort", () => {
  it("names the tab after the conversation, and follows its title after the first exchange", async () => {
    await logIn(page, member);
    await page.goto(`${baseUrl}/#/c/${conversationId}`);
    await page.getByRole("heading", { name: "New conversation" }).waitFor();
    await expect.poll(() => page.title()).toBe("New conversation · haruchat");
    expect(highlighterRequests).toEqual([]); // no code shown yet: the highlighter stays on the server

    const composer = page.getByLabel("Message (Enter to send, Shift+Enter for a new line)");
    await composer.fill(QUESTION);
    await composer.press("Enter");
    await page.getByTestId("streaming").waitFor({ state: "detached", timeout: 90_000 });
    await page.locator(".chat-head").getByRole("heading", { name: QUESTION }).waitFor();
    await expect.poll(() => page.title()).toBe(`${QUESTION} · haruchat`);
  });

  it("colours a code block once its highlighter has loaded, and copies the raw code", async () => {
    const block = page.locator(".message.assistant .code-block").first();
    await block.waitFor();
    await block.locator(".hljs-keyword").first().waitFor();
    expect(highlighterRequests).toHaveLength(1);
    expect(await block.locator(".code-language").innerText()).toBe("python");

    const code = await block.locator("pre code").innerText();
    expect(code).toContain("def ");
    const copy = block.getByRole("button", { name: "Copy code" });
    await copy.click();
    await expect.poll(() => copy.innerText()).toBe("Copied");
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(code);
    await expect.poll(() => copy.innerText(), { timeout: 5_000 }).toBe("Copy");
  });

  it("copies a whole answer as Markdown", async () => {
    await page.getByRole("button", { name: "Copy answer" }).first().click();
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    expect(copied).toMatch(/^```python\n[\s\S]*def [\s\S]*```/m);
  });

  it("follows the system's scheme until the member picks a theme, which a reload remembers", async () => {
    // The switch sits beside the language switch, on the brand's line.
    const brand = (await page.locator(".sidebar .brand").boundingBox())!;
    const switches = (await page.locator(".sidebar .display-switches").boundingBox())!;
    expect(Math.abs(brand.y + brand.height / 2 - (switches.y + switches.height / 2))).toBeLessThan(4);
    expect(switches.x + switches.width).toBeLessThanOrEqual(280);

    expect(await page.getByRole("radio", { name: "Match the system" }).isChecked()).toBe(true);
    expect(await background(page)).toBe(LIGHT_BG);
    await screenshot(page, "comfort-code-light-desktop");
    await page.emulateMedia({ colorScheme: "dark" });
    expect(await background(page)).toBe(DARK_BG);

    await page.emulateMedia({ colorScheme: "light" });
    await page.getByTitle("Dark").click(); // the radio button's label: its icon
    expect(await background(page)).toBe(DARK_BG);
    await page.reload();
    await page.locator(".code-block .hljs-keyword").first().waitFor();
    expect(await page.getByRole("radio", { name: "Dark" }).isChecked()).toBe(true);
    expect(await background(page)).toBe(DARK_BG);
    await screenshot(page, "comfort-code-dark-desktop");

    // The stored choice is on the page before the app's code has arrived: no light flash on a dark load.
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    await page.route(/\/assets\/index-[^/]*\.js$/, async (route) => {
      await held;
      await route.continue();
    });
    const reloaded = page.reload();
    await page.waitForFunction(() => document.readyState !== "loading" || document.documentElement.dataset.theme);
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe("dark");
    expect(await page.locator(".sidebar").count()).toBe(0); // the app itself is still on its way
    expect(await background(page)).toBe(DARK_BG);
    release();
    await reloaded;
    await page.unroute(/\/assets\/index-[^/]*\.js$/);
    await page.locator(".code-block .hljs-keyword").first().waitFor();

    // The radio buttons work from the keyboard: arrows move the choice.
    await page.getByRole("radio", { name: "Dark" }).focus();
    await page.keyboard.press("ArrowLeft");
    expect(await page.getByRole("radio", { name: "Light" }).isChecked()).toBe(true);
    expect(await background(page)).toBe(LIGHT_BG);
  });

  it("fits a phone, in light and dark", async () => {
    const phone = await browser.newContext({
      viewport: { width: 390, height: 844 },
      deviceScaleFactor: 2,
      isMobile: true,
      hasTouch: true,
      locale: "en-US",
      colorScheme: "light",
    });
    const small = await phone.newPage();
    await logIn(small, member);
    await small.goto(`${baseUrl}/#/c/${conversationId}`);
    await small.locator(".code-block .hljs-keyword").first().waitFor();
    const overflow = () => small.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(await overflow()).toBeLessThanOrEqual(0);
    await screenshot(small, "comfort-code-light-phone");
    await small.getByRole("button", { name: "Menu" }).click();
    await small.getByTitle("Dark").tap();
    await screenshot(small, "comfort-menu-dark-phone");
    await small.getByRole("button", { name: "Menu" }).click();
    // The drawer slides away (its right edge off the screen) before the picture.
    await expect
      .poll(async () => {
        const drawer = (await small.locator(".sidebar").boundingBox())!;
        return drawer.x + drawer.width;
      })
      .toBeLessThanOrEqual(0);
    expect(await background(small)).toBe(DARK_BG);
    expect(await overflow()).toBeLessThanOrEqual(0);
    await screenshot(small, "comfort-code-dark-phone");
    await phone.close();
  });

  it("shows the other pages in dark: account, my usage, the usage dashboard and the operator area", async () => {
    const dark = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: "en-US", colorScheme: "dark" });
    const other = await dark.newPage();
    await other.goto(`${baseUrl}/#/login`);
    await other.getByRole("radio", { name: "Match the system" }).waitFor({ state: "attached" });
    await screenshot(other, "comfort-login-dark");
    await logIn(other, admin);
    expect(await background(other)).toBe(DARK_BG);
    for (const [path, ready, name] of [
      ["/account", "h1", "comfort-account-dark"],
      ["/my-usage", "h1", "comfort-my-usage-dark"],
      ["/usage", ".chart-canvas canvas", "comfort-usage-dark"],
      ["/groups", "h1", "comfort-groups-dark"],
    ]) {
      await other.goto(`${baseUrl}/#${path}`);
      await other.locator(ready).first().waitFor();
      await screenshot(other, name, true);
    }
    await dark.close();
  });
});
