/**
 * Logging in with GitHub and Kakao from the web app's buttons, in real headless
 * Chromium, through the whole redirect dance: the web app → haruchat → the
 * provider's consent page (a loopback stand-in) → haruchat's callback → back
 * to the page the member asked for, holding haruchat's own tokens.
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from "vitest";
import { launch, screenshot } from "./browser";

const baseUrl = inject("baseUrl");
const standinUrl = inject("standinUrl");

let browser: Browser;
let page: Page;

async function standin(path: string, body: unknown = {}): Promise<void> {
  const response = await fetch(`${standinUrl}${path}`, { method: "POST", body: JSON.stringify(body) });
  expect(response.ok).toBe(true);
}

const hashPath = () => decodeURIComponent(new URL(page.url()).hash.slice(1));

beforeAll(async () => {
  browser = await launch();
});

beforeEach(async () => {
  await standin("/_control/reset");
  page = await (await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: "en-US" })).newPage();
});

afterAll(async () => {
  await browser?.close();
});

describe("OAuth login from the web app", () => {
  it("offers exactly the configured providers and brings a GitHub member back to the page asked for", async () => {
    await page.goto(`${baseUrl}/#/account`);
    await page.waitForURL(/#\/login\?next=/);
    const github = page.getByRole("link", { name: "Continue with GitHub" });
    await github.waitFor();
    expect(await page.getByRole("link", { name: /Continue with/ }).count()).toBe(2);
    await screenshot(page, "login-providers");
    await github.click();
    await page.waitForURL((url) => url.hash === "#/account");
    await page.getByRole("heading", { name: "Account" }).waitFor();
    await page.getByText("Octo Cat").waitFor();
    await page.locator(".linked li", { hasText: "GitHub" }).waitFor();
    // The tokens came by POST: no token ever appeared in a URL.
    const tokens = await page.evaluate(() => [localStorage.getItem("haruchat.access"), localStorage.getItem("haruchat.refresh")]);
    expect(tokens.every(Boolean)).toBe(true);
    expect(page.url()).not.toContain(tokens[0]!);
  });

  it("says so when the member refuses consent", async () => {
    await standin("/_control", { deny: true });
    await page.goto(`${baseUrl}/#/login`);
    await page.getByRole("link", { name: "Continue with Kakao" }).click();
    await page.waitForURL(/oauth_error=denied/);
    await page.getByRole("alert").getByText("You cancelled the login with the provider.").waitFor();
    expect(hashPath()).toBe("/login?oauth_error=denied");
  });

  it("keeps a Kakao member without a password from removing their only way in", async () => {
    await standin("/_control", { kakao_user: { id: 99, kakao_account: { profile: { nickname: "달님" } } } });
    await page.goto(`${baseUrl}/#/login?next=${encodeURIComponent("/account")}`);
    await page.getByRole("link", { name: "Continue with Kakao" }).click();
    await page.waitForURL((url) => url.hash === "#/account");
    await page.getByText("달님").waitFor();
    await page.locator(".linked li", { hasText: "Kakao" }).getByRole("button", { name: "Remove" }).click();
    await page.getByRole("alert").getByText(/only way to log in/).waitFor();
    await page.locator(".linked li", { hasText: "Kakao" }).waitFor();
    // With an email and a password of their own, the member may log in without Kakao.
    await page.getByRole("textbox", { name: "Email" }).fill("dal@example.com");
    await page.getByRole("button", { name: "Save email" }).click();
    await page.getByText("Email saved.").waitFor();
    await page.getByLabel("New password").fill("a moonlit pass phrase");
    await page.getByRole("button", { name: "Set password" }).click();
    await page.getByText("Password saved.").waitFor();
    await page.locator(".linked li", { hasText: "Kakao" }).getByRole("button", { name: "Remove" }).click();
    await page.getByText("No linked logins.").waitFor();
  });
});
