/**
 * A new member's whole journey in real headless Chromium against a real
 * backend on the embedded model: the ?next= round trip, sign-up, the guided
 * intake, a streamed answer, history, the call record, the day's limit,
 * an expired session that keeps the draft, and log-out.
 */
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { launch, screenshot } from "./browser";

const baseUrl = inject("baseUrl");
const dailyLimit = inject("dailyLimit");
const member = { email: `e2e-${Date.now()}@example.com`, password: "a long pass phrase", nickname: "e2e" };

let browser: Browser;
let context: BrowserContext;
let page: Page;

beforeAll(async () => {
  browser = await launch();
  context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: "en-US" });
  page = await context.newPage();
});

afterAll(async () => {
  await browser?.close();
});

const hashPath = () => decodeURIComponent(new URL(page.url()).hash.slice(1));

describe("a new member", () => {
  it("is sent to the login page with ?next= when visiting a chat page anonymously", async () => {
    await page.goto(`${baseUrl}/#/c/42`);
    await page.waitForURL(/#\/login/);
    expect(hashPath()).toBe("/login?next=/c/42");
    await screenshot(page, "login");
  });

  it("signs up and lands on the main page", async () => {
    await page.goto(`${baseUrl}/#/signup`);
    await page.getByLabel("Email").fill(member.email);
    await page.getByLabel("Password").fill(member.password);
    await page.getByLabel("Nickname").fill(member.nickname);
    await page.getByRole("button", { name: "Sign up" }).click();
    await page.getByRole("heading", { name: "Who would you like to talk to?" }).waitFor();
    expect(hashPath()).toBe("/");
    await page.getByTestId("quota").getByText(`${dailyLimit} of ${dailyLimit} left today, resets at 00:00`).waitFor();
    await screenshot(page, "assistants");
  });

  it("answers the guided intake and gets a streamed answer", async () => {
    await page.getByRole("button", { name: /Meditation guide/ }).click();
    await page.getByLabel(/How are you feeling right now/).fill("tense after a long day");
    await page.getByLabel(/What do you want from this session/).fill("relax my shoulders");
    await page.getByLabel(/Anything else/).fill("five minutes at my desk");
    await screenshot(page, "intake");
    await page.getByRole("button", { name: "Start" }).click();
    await page.waitForURL(/#\/c\/\d+/);
    // The answer appears while it is being produced, then is stored whole.
    await page.getByTestId("streaming").waitFor({ timeout: 30_000 });
    await page.getByTestId("streaming").waitFor({ state: "detached", timeout: 60_000 });
    const answers = page.locator(".message.assistant");
    await expect.poll(() => answers.count()).toBe(1);
    expect((await answers.first().innerText()).trim().length).toBeGreaterThan(0);
    await expect.poll(() => page.locator(".message.user").first().innerText()).toContain("Current state: tense after a long day");
    await page.getByTestId("quota").getByText(`${dailyLimit - 1} of ${dailyLimit} left today`).waitFor();
    await screenshot(page, "chat");
  });

  it("sends with Enter, keeps Shift+Enter for a new line", async () => {
    const composer = page.getByLabel("Message (Enter to send, Shift+Enter for a new line)");
    await composer.click();
    await composer.pressSequentially("Line one");
    await page.keyboard.press("Shift+Enter");
    await composer.pressSequentially("line two");
    expect(await composer.inputValue()).toBe("Line one\nline two");
    await page.keyboard.press("Enter");
    await expect.poll(() => page.locator(".message.user").count()).toBe(2);
    await page.getByTestId("streaming").waitFor({ state: "detached", timeout: 60_000 });
    expect(await composer.inputValue()).toBe("");
    await page.getByTestId("quota").getByText(`${dailyLimit - 2} of ${dailyLimit} left today`).waitFor();
  });

  it("opens the record of a model call with the exact request and response", async () => {
    await page.getByRole("button", { name: "Details" }).first().click();
    const request = page.getByTestId("request-json");
    await request.waitFor();
    const sent = JSON.parse(await request.innerText());
    expect(sent.model).toBe("smollm2-135m-instruct");
    expect(sent.messages[0].role).toBe("system");
    const received = JSON.parse(await page.getByTestId("response-json").innerText());
    expect(received.object).toBe("chat.completion");
    await screenshot(page, "call-details");
    await page.getByRole("button", { name: "Close" }).click();
  });

  it("finds, renames and keeps the conversation in the history", async () => {
    await page.getByLabel("Search conversations").fill("shoulders");
    await expect.poll(() => page.locator(".conversation-link").count()).toBe(1);
    await page.getByLabel("Search conversations").fill("no such words anywhere");
    await expect.poll(() => page.locator(".conversation-link").count()).toBe(0);
    await page.getByLabel("Search conversations").fill("");
    await expect.poll(() => page.locator(".conversation-link").count()).toBe(1);
    page.once("dialog", (dialog) => dialog.accept("Evening calm"));
    await page.locator(".item-menu summary").first().click();
    await page.getByRole("button", { name: "Rename" }).click();
    await page.locator(".conversation-link", { hasText: "Evening calm" }).waitFor();
  });

  it("exports a conversation, and deletes one only after confirming", async () => {
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      (async () => {
        await page.locator(".item-menu summary").first().click();
        await page.getByRole("button", { name: "Export Markdown" }).click();
      })(),
    ]);
    expect(download.suggestedFilename()).toMatch(/^haruchat-conversation-\d+\.md$/);
    const { readFile } = await import("node:fs/promises");
    expect(await readFile((await download.path())!, "utf8")).toContain("## Evening calm");

    const conversationPath = hashPath();
    await page.getByRole("link", { name: "+ New chat" }).click();
    await page.getByRole("button", { name: /Free chat/ }).click();
    await page.waitForURL((url) => url.hash !== `#${conversationPath}` && /#\/c\/\d+/.test(url.hash));
    await expect.poll(() => page.locator(".conversation-link").count()).toBe(2);
    page.once("dialog", (dialog) => dialog.dismiss());
    await page.locator(".item-menu summary").first().click();
    await page.getByRole("button", { name: "Delete" }).click();
    await expect.poll(() => page.locator(".conversation-link").count()).toBe(2);
    page.once("dialog", (dialog) => dialog.accept());
    await page.locator(".item-menu summary").first().click();
    await page.getByRole("button", { name: "Delete" }).click();
    await expect.poll(() => page.locator(".conversation-link").count()).toBe(1);
    await page.goto(`${baseUrl}/#${conversationPath}`);
    await page.locator(".message.assistant").first().waitFor();
  });

  it("says clearly when the day's allowance is used up", async () => {
    const composer = page.getByLabel("Message (Enter to send, Shift+Enter for a new line)");
    await composer.fill("One more, please.");
    await page.keyboard.press("Enter");
    await page.getByTestId("streaming").waitFor({ state: "detached", timeout: 60_000 });
    await page.getByTestId("quota").getByText(`0 of ${dailyLimit} left today`).waitFor();
    await composer.fill("And another?");
    await page.keyboard.press("Enter");
    await page.getByRole("alert").getByText("You have used today's allowance. It resets at 00:00.").waitFor();
    expect(await composer.inputValue()).toBe("And another?"); // nothing typed is lost
    await screenshot(page, "quota-reached");
  });

  it("keeps what was typed when the session expires, and comes back after logging in", async () => {
    const conversationPath = hashPath();
    const composer = page.getByLabel("Message (Enter to send, Shift+Enter for a new line)");
    await composer.fill("A thought I don't want to lose");
    await page.evaluate(() => {
      localStorage.setItem("haruchat.access", "expired");
      localStorage.setItem("haruchat.refresh", "revoked");
    });
    await page.keyboard.press("Enter");
    await page.waitForURL(/#\/login/);
    await page.getByText("Your session has ended").waitFor();
    await page.getByLabel("Email").fill(member.email);
    await page.getByLabel("Password").fill(member.password);
    await page.getByRole("button", { name: "Log in" }).click();
    await page.waitForURL((url) => url.hash === `#${conversationPath}`);
    await expect.poll(() => composer.inputValue()).toBe("A thought I don't want to lose");
  });

  it("logs out, and the ?next= round trip returns to the page asked for", async () => {
    const conversationPath = hashPath();
    await page.getByRole("button", { name: "Log out" }).click();
    await page.waitForURL(/#\/login$/);
    await page.goto(`${baseUrl}/#${conversationPath}`);
    await page.waitForURL(/#\/login\?next=/);
    await page.getByLabel("Email").fill(member.email);
    await page.getByLabel("Password").fill(member.password);
    await page.getByRole("button", { name: "Log in" }).click();
    await page.waitForURL((url) => url.hash === `#${conversationPath}`);
    await page.locator(".message.assistant").first().waitFor();
  });

  it("never follows a ?next= to another site", async () => {
    await page.getByRole("button", { name: "Log out" }).click();
    await page.goto(`${baseUrl}/#/login?next=${encodeURIComponent("//evil.example/steal")}`);
    await page.getByLabel("Email").fill(member.email);
    await page.getByLabel("Password").fill(member.password);
    await page.getByRole("button", { name: "Log in" }).click();
    await page.getByRole("heading", { name: "Who would you like to talk to?" }).waitFor();
    expect(new URL(page.url()).origin).toBe(baseUrl);
    expect(hashPath()).toBe("/");
  });

  it("speaks Korean and fits a phone-sized screen", async () => {
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: "ko-KR", isMobile: true });
    const small = await phone.newPage();
    await small.goto(`${baseUrl}/#/login`);
    await small.getByRole("heading", { name: "로그인" }).waitFor();
    await screenshot(small, "login-ko-phone");
    await small.getByLabel("이메일").fill(member.email);
    await small.getByLabel("비밀번호").fill(member.password);
    await small.getByRole("button", { name: "로그인" }).click();
    await small.getByRole("heading", { name: "누구와 이야기할까요?" }).waitFor();
    const overflow = await small.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await small.getByRole("button", { name: "메뉴", exact: true }).click();
    await expect.poll(() => small.locator(".sidebar").evaluate((el) => el.getBoundingClientRect().left)).toBe(0);
    await small.getByTestId("quota").getByText(`오늘 ${dailyLimit}회 중 0회 남음`).waitFor();
    await screenshot(small, "sidebar-ko-phone");
    await small.getByRole("button", { name: "English" }).first().click();
    await small.getByRole("heading", { name: "Who would you like to talk to?" }).waitFor();
    await phone.close();
  });
});
