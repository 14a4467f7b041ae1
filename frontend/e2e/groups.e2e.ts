/**
 * The operator area in real headless Chromium against a real backend: an admin
 * creates a group, sets its limit and allowed model, makes and copies an invite
 * link, imports members from a CSV (check first, then for real) and hands out a
 * set-password link, and sees the members' use; an operator sees only their own
 * group, and enrols people who have an account with an invite link, never
 * directly; all of it on a phone too, in Korean and English.
 */
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { launch, screenshot } from "./browser";
import { apiCall, type CallInit } from "./http";

const baseUrl = inject("baseUrl");
const admin = inject("admin");
const stamp = Date.now();
const operator = { email: `op-${stamp}@example.com`, password: "an operator's pass phrase", nickname: "Opal" };
const newcomer = { email: `new-${stamp}@example.com`, nickname: "Newton", password: "a newcomer's pass phrase" };
const groupName = `Class A ${stamp}`;
const otherGroupName = `Class B ${stamp}`;

let browser: Browser;
let context: BrowserContext;
let page: Page;
let groupId = 0;
let adminToken = "";

/** The API as a script would call it (for what the test sets up around the browser, not what it checks). */
const call = <T>(path: string, init: CallInit = {}) => apiCall<T>(baseUrl, path, init);

const token = async (email: string, password: string) =>
  (await call<{ access: string }>("/api/auth/login", { body: { email, password } })).access;

async function logIn(target: Page, email: string, password: string, labels = { email: "Email", password: "Password", button: "Log in" }) {
  await target.goto(`${baseUrl}/#/login`);
  await target.getByLabel(labels.email).fill(email);
  await target.getByLabel(labels.password).fill(password);
  await target.getByRole("button", { name: labels.button }).click();
  await target.locator(".sidebar").waitFor();
}

/** No sideways scrolling: everything fits the screen's width. */
const overflow = (target: Page) => target.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);

beforeAll(async () => {
  browser = await launch();
  context = await browser.newContext({ viewport: { width: 1280, height: 860 }, locale: "en-US" });
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: baseUrl });
  page = await context.newPage();
  // The operator-to-be has an account already; the import will make them the group's operator.
  await call("/api/auth/signup", { body: operator });
  adminToken = await token(admin.email, admin.password);
  await call("/api/groups", { body: { name: otherGroupName, description: "Another class" }, token: adminToken });
});

afterAll(async () => {
  await browser?.close();
});

describe("an admin", () => {
  it("finds the operator area in the menu and creates a group", async () => {
    await logIn(page, admin.email, admin.password);
    await page.getByRole("link", { name: "Groups" }).click();
    await page.getByRole("heading", { name: "Groups", level: 1 }).waitFor();
    await page.getByRole("link", { name: new RegExp(otherGroupName) }).waitFor();
    const form = page.getByRole("form", { name: "Create a group" });
    await form.getByLabel("Name").fill(groupName);
    await form.getByLabel("Description (optional)").fill("Mornings, spring term");
    await form.getByLabel("Daily requests per member").fill("4");
    await form.getByRole("button", { name: "Create" }).click();
    await page.getByRole("heading", { name: groupName }).waitFor();
    groupId = Number(/#\/groups\/(\d+)/.exec(page.url())?.[1]);
    expect(groupId).toBeGreaterThan(0);
    await page.getByText(/No members yet/).waitFor();
  });

  it("sets the daily limit and an allowed model in the settings", async () => {
    await page.getByRole("link", { name: "Settings" }).click();
    await page.getByLabel("Daily requests per member").fill("2");
    await page.getByLabel("Monthly tokens per member").fill("50000");
    const models = page.getByRole("group", { name: "Allowed models" });
    const { default: model } = await call<{ default: string }>("/api/models", { token: adminToken });
    await models.getByLabel(model).check();
    await screenshot(page, "group-settings", true);
    await page.getByRole("button", { name: "Save" }).click();
    await page.getByRole("status").getByText("Saved.").waitFor();
    const saved = await call<{ daily_limit: number; monthly_token_budget: number; models: string[] }>(`/api/groups/${groupId}`, {
      token: adminToken,
    });
    expect(saved).toMatchObject({ daily_limit: 2, monthly_token_budget: 50000, models: [model] });
    // The page keeps what was saved when it is opened again.
    await page.reload();
    expect(await page.getByRole("group", { name: "Allowed models" }).getByLabel(model).isChecked()).toBe(true);
    expect(await page.getByLabel("Daily requests per member").inputValue()).toBe("2");
  });

  it("creates an invite link and copies it", async () => {
    await page.getByRole("link", { name: "Invites" }).click();
    await page.getByText("No live invite links.").waitFor();
    await page.getByLabel("Maximum uses (optional)").fill("30");
    await page.getByRole("button", { name: "Create link" }).click();
    const link = page.getByLabel(/^Invite link /);
    await link.waitFor();
    const url = await link.inputValue();
    expect(url).toMatch(/#\/join\/[\w-]+$/);
    await page.getByText("Used 0 of 30").waitFor();
    await page.getByRole("button", { name: /^Copy link/ }).click();
    await page.getByText("Copied.").waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(url);
    await screenshot(page, "group-invites", true);
  });

  it("checks a CSV import row by row, then imports it and gets the set-password link", async () => {
    await page.getByRole("link", { name: "Import" }).click();
    const csv = [
      "email,nickname,role",
      `${newcomer.email},${newcomer.nickname},`,
      `${operator.email},${operator.nickname},operator`,
      "not-an-address,Nobody,",
      `${newcomer.email},${newcomer.nickname},`,
    ].join("\n");
    await page.getByLabel("CSV file", { exact: true }).setInputFiles({ name: "class-a.csv", mimeType: "text/csv", buffer: Buffer.from(csv) });
    await page.getByRole("button", { name: "Check" }).click();
    await page.getByText("Check only, nothing changed: 1 would be created, 1 added, 2 skipped.").waitFor();
    const report = page.locator(".import-table");
    await report.getByRole("row", { name: new RegExp(newcomer.email) }).first().getByText("would be created").waitFor();
    await report.getByRole("row", { name: new RegExp(operator.email) }).getByText("would be added").waitFor();
    await report.getByText(/not a valid email address/).waitFor();
    await report.getByText("the same email is on line 2").waitFor();
    expect(await page.getByText("Set-password link").count()).toBe(0); // a check makes no accounts
    const members = await call<unknown[]>(`/api/groups/${groupId}/members`, { token: adminToken });
    expect(members).toEqual([]);
    await screenshot(page, "group-import-check", true);

    await page.getByLabel("CSV file", { exact: true }).setInputFiles({ name: "class-a.csv", mimeType: "text/csv", buffer: Buffer.from(csv) });
    await page.getByRole("button", { name: "Import" }).click();
    await page.getByText("Imported: 1 created, 1 added, 2 skipped.").waitFor();
    const link = page.getByLabel(`Set-password link: ${newcomer.email}`);
    const url = await link.inputValue();
    expect(url).toMatch(/#\/reset\/\S+$/);
    await page.getByRole("button", { name: `Copy link for ${newcomer.email}` }).click();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(url);
    await screenshot(page, "group-import-done", true);

    // The link handed out works: the newcomer sets a password with it and logs in.
    const newcomerPage = await browser.newPage();
    await newcomerPage.goto(url);
    await newcomerPage.getByLabel("New password").fill(newcomer.password);
    await newcomerPage.getByRole("button", { name: "Set password" }).click();
    await newcomerPage.getByText("Your new password is set").waitFor();
    await newcomerPage.close();
    expect(await token(newcomer.email, newcomer.password)).toBeTruthy();
  });

  it("sees the members with today's use and this month's tokens", async () => {
    // The operator asks the model once (through the API: the browser part is the admin's view).
    const opToken = await token(operator.email, operator.password);
    const conversation = await call<{ id: number }>("/api/conversations", { body: { assistant: "free-chat" }, token: opToken });
    await call(`/api/conversations/${conversation.id}/messages`, { body: { content: "Say hello.", stream: false }, token: opToken });

    await page.getByRole("link", { name: "Members" }).click();
    const opRow = page.getByRole("row", { name: new RegExp(operator.email) });
    await opRow.waitFor();
    await opRow.getByText("Operator").waitFor();
    await opRow.getByText("1 of 2").waitFor();
    const tokens = await opRow.locator("td").nth(2).innerText();
    expect(Number(tokens.split(" of ")[0].replace(/,/g, ""))).toBeGreaterThan(0);
    expect(tokens).toContain("of 50,000");
    const newRow = page.getByRole("row", { name: new RegExp(newcomer.email) });
    await newRow.getByText("0 of 2").waitFor();
    await screenshot(page, "group-members", true);

    await page.getByRole("link", { name: "← Groups" }).click();
    const card = page.getByRole("link", { name: new RegExp(groupName) });
    await card.getByText("2 members").waitFor();
    await card.getByText("2 a day").waitFor();
    await card.getByText(`Run by ${operator.nickname}`).waitFor();
    await screenshot(page, "groups", true);
  });

  it("speaks Korean", async () => {
    await page.getByRole("button", { name: "한국어" }).click();
    await page.getByRole("heading", { name: "그룹", level: 1 }).waitFor();
    await page.getByRole("link", { name: new RegExp(groupName) }).click();
    await page.getByRole("row", { name: new RegExp(operator.email) }).getByText("2회 중 1회").waitFor();
    await screenshot(page, "group-members-ko", true);
    await page.getByRole("button", { name: "English" }).click();
  });
});

describe("an operator", () => {
  it("sees only their own group, and another group's address is closed to them", async () => {
    const own = await browser.newContext({ viewport: { width: 1280, height: 860 }, locale: "en-US" });
    const mine = await own.newPage();
    await logIn(mine, operator.email, operator.password);
    await mine.getByRole("link", { name: "Groups" }).click();
    await mine.getByRole("link", { name: new RegExp(groupName) }).waitFor();
    expect(await mine.locator(".group-card").count()).toBe(1);
    expect(await mine.getByText(otherGroupName).count()).toBe(0);
    expect(await mine.getByRole("form", { name: "Create a group" }).count()).toBe(0);
    await mine.getByRole("link", { name: new RegExp(groupName) }).click();
    await mine.getByRole("row", { name: new RegExp(newcomer.email) }).waitFor();
    // Someone with an account joins by their own choice: an operator is pointed to an invite link, with no form
    // to add an account by email (the API refuses them that: 403 admin_only, whatever the email).
    await mine.getByRole("region", { name: "Add a member" }).getByText(/send them an invite link/).waitFor();
    expect(await mine.getByRole("form", { name: "Add a member" }).count()).toBe(0);
    const opToken = await token(operator.email, operator.password);
    const refused = await fetch(`${baseUrl}/api/groups/${groupId}/members`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${opToken}` },
      body: JSON.stringify({ email: admin.email }),
    });
    expect(refused.status).toBe(403);
    expect((await refused.json()).code).toBe("admin_only");
    await mine.getByRole("link", { name: "Settings" }).click();
    await mine.getByRole("group", { name: "Allowed models" }).waitFor();
    expect(await mine.getByRole("group", { name: "Operators" }).count()).toBe(0);
    expect(await mine.getByRole("button", { name: "Delete group" }).count()).toBe(0);

    const groups = await call<{ id: number; name: string }[]>("/api/groups", { token: adminToken });
    const other = groups.find((group) => group.name === otherGroupName)!;
    await mine.goto(`${baseUrl}/#/groups/${other.id}`);
    await mine.getByRole("alert").getByText("No such group, or it isn't yours to run.").waitFor();
    await own.close();
  });

  it("has no Groups link when they run nothing", async () => {
    const plain = await browser.newContext({ viewport: { width: 1280, height: 860 }, locale: "en-US" });
    const theirs = await plain.newPage();
    await logIn(theirs, newcomer.email, newcomer.password);
    await theirs.getByRole("link", { name: "Account" }).waitFor();
    await theirs.waitForTimeout(300); // /api/auth/me has answered by now
    expect(await theirs.getByRole("link", { name: "Groups" }).count()).toBe(0);
    await theirs.goto(`${baseUrl}/#/groups`);
    await theirs.getByText("This area is for groups' operators and admins.").waitFor();
    await plain.close();
  });
});

describe("on a phone", () => {
  it("runs the group in Korean on a 390px screen, without sideways scrolling", async () => {
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: "ko-KR", isMobile: true, hasTouch: true });
    await phone.grantPermissions(["clipboard-read", "clipboard-write"], { origin: baseUrl });
    const small = await phone.newPage();
    await logIn(small, operator.email, operator.password, { email: "이메일", password: "비밀번호", button: "로그인" });
    await small.getByRole("button", { name: "메뉴", exact: true }).click();
    await small.getByRole("link", { name: "그룹" }).click();
    await small.getByRole("heading", { name: "그룹", level: 1 }).waitFor();
    await small.getByRole("link", { name: new RegExp(groupName) }).waitFor();
    expect(await overflow(small)).toBeLessThanOrEqual(0);
    await screenshot(small, "groups-ko-phone", true);

    await small.getByRole("link", { name: new RegExp(groupName) }).click();
    const opRow = small.getByRole("row", { name: new RegExp(operator.email) });
    await opRow.getByText("2회 중 1회").waitFor();
    expect(await overflow(small)).toBeLessThanOrEqual(0);
    await screenshot(small, "group-members-ko-phone", true);

    await small.getByRole("link", { name: "초대", exact: true }).click();
    await small.getByLabel(/^초대 링크 /).waitFor();
    await small.getByRole("button", { name: /^링크 복사/ }).click();
    await small.getByText("복사했습니다.").waitFor();
    expect(await overflow(small)).toBeLessThanOrEqual(0);
    await screenshot(small, "group-invites-ko-phone", true);

    await small.getByRole("link", { name: "가져오기", exact: true }).click();
    // The admin has an account but is in no group: an operator's import leaves them out (an invite link is theirs to use).
    const csv = `email,nickname\n${`late-${stamp}@example.com`},Late\n${newcomer.email},${newcomer.nickname}\n${admin.email},\n`;
    await small.getByLabel("CSV 파일", { exact: true }).setInputFiles({ name: "late.csv", mimeType: "text/csv", buffer: Buffer.from(csv) });
    await small.getByRole("button", { name: "가져오기", exact: true }).click();
    await small.getByText("가져왔습니다: 만듦 1, 추가 0, 건너뜀 2.").waitFor();
    await small.getByText("이미 이 그룹에 있음").waitFor();
    await small.getByText("이미 계정이 있음: 초대 링크를 보내세요").waitFor();
    await small.getByLabel(`비밀번호 설정 링크: late-${stamp}@example.com`).waitFor();
    expect(await overflow(small)).toBeLessThanOrEqual(0);
    await screenshot(small, "group-import-ko-phone", true);

    await small.getByRole("button", { name: "메뉴", exact: true }).click();
    await small.getByRole("button", { name: "English" }).first().click();
    await small.getByRole("button", { name: "Menu", exact: true }).click();
    await small.getByRole("link", { name: "Settings" }).click();
    await small.getByRole("group", { name: "Allowed assistants" }).waitFor();
    expect(await overflow(small)).toBeLessThanOrEqual(0);
    await screenshot(small, "group-settings-phone", true);
    await small.getByRole("link", { name: "Members" }).click();
    await small.getByRole("row", { name: new RegExp(operator.email) }).getByText("1 of 2").waitFor();
    await screenshot(small, "group-members-phone", true);
    await phone.close();
  });
});
