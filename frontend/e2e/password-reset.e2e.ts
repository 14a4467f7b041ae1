/**
 * A member who forgot the password, in real headless Chromium against a real
 * backend: the login page's link, the mail (Django's file backend here), the
 * link's page, and a login with the new password.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { launch, screenshot } from "./browser";

const baseUrl = inject("baseUrl");
const mailDir = inject("mailDir");
const member = { email: `reset-${Date.now()}@example.com`, password: "the old pass phrase", nickname: "reset" };
const NEW_PASSWORD = "a brand new pass phrase";

let browser: Browser;
let page: Page;

beforeAll(async () => {
  browser = await launch();
  page = await (await browser.newContext({ viewport: { width: 390, height: 780 }, locale: "en-US" })).newPage();
  const signup = await fetch(`${baseUrl}/api/auth/signup`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(member),
  });
  expect(signup.status).toBe(201);
});

afterAll(async () => {
  await browser?.close();
});

/** The reset link in the newest mail to this member. */
function linkInMail(): string {
  const mails = readdirSync(mailDir)
    .map((name) => readFileSync(join(mailDir, name), "utf8"))
    .filter((text) => text.includes(member.email));
  const link = /(http\S+#\/reset\/\S+)/.exec(mails.at(-1) ?? "")?.[1];
  if (!link) throw new Error(`no reset link mailed to ${member.email}`);
  return link;
}

describe("a member who forgot the password", () => {
  it("asks for a link from the login page", async () => {
    await page.goto(`${baseUrl}/#/login`);
    await page.getByRole("link", { name: "Forgot your password?" }).click();
    await page.getByLabel("Email").fill(member.email);
    await page.getByRole("button", { name: "Send the link" }).click();
    await page.getByText(`If ${member.email} has an account here`).waitFor();
    await screenshot(page, "password-reset-sent");
  });

  it("sets a new password with the mailed link and logs in with it", async () => {
    await page.goto(linkInMail());
    await page.getByLabel("New password").fill(NEW_PASSWORD);
    await page.getByRole("button", { name: "Set password" }).click();
    await page.getByText("Your new password is set").waitFor();
    await page.getByRole("link", { name: "Log in" }).first().click();
    await page.getByLabel("Email").fill(member.email);
    await page.getByLabel("Password").fill(NEW_PASSWORD);
    await page.getByRole("button", { name: "Log in" }).click();
    await page.getByRole("heading", { name: "Who would you like to talk to?" }).waitFor();
  });

  it("can't use the same link twice", async () => {
    await page.evaluate(() => localStorage.clear());
    await page.goto(linkInMail());
    await page.getByLabel("New password").fill("yet another pass phrase");
    await page.getByRole("button", { name: "Set password" }).click();
    await page.getByText(/invalid, expired or already used/).waitFor();
    await screenshot(page, "password-reset-used");
  });
});
