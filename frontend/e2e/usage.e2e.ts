/**
 * The usage pages in real headless Chromium against a real backend: members ask the model (one until
 * their daily limit refuses them), then an admin opens the dashboard (charts drawn, the busiest members,
 * a group picked, the CSV downloaded) and a member opens My usage, on a desktop and on a 390px phone,
 * in English and Korean.
 */
import { readFileSync } from "node:fs";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { launch, screenshot } from "./browser";
import { apiCall, type CallInit } from "./http";

const baseUrl = inject("baseUrl");
const admin = inject("admin");
const stamp = Date.now();
const ana = { email: `ana-${stamp}@example.com`, password: "ana's long pass phrase", nickname: "Ana" };
const ben = { email: `ben-${stamp}@example.com`, password: "ben's long pass phrase", nickname: "Ben" };
const loner = { email: `loner-${stamp}@example.com`, password: "loner's long pass phrase", nickname: "Loner" };
const groupName = `Usage class ${stamp}`;

let browser: Browser;
let groupId = 0;

const call = <T>(path: string, init: CallInit = {}) => apiCall<T>(baseUrl, path, init);

const token = async (email: string, password: string) =>
  (await call<{ access: string }>("/api/auth/login", { body: { email, password } })).access;

/** Asks the model `times` times; returns the statuses (429 once the daily limit is spent). */
async function ask(who: { email: string; password: string }, times: number): Promise<number[]> {
  const access = await token(who.email, who.password);
  const conversation = await call<{ id: number }>("/api/conversations", { body: { assistant: "free-chat" }, token: access });
  const statuses: number[] = [];
  for (let i = 0; i < times; i++) {
    const response = await fetch(`${baseUrl}/api/conversations/${conversation.id}/messages`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${access}` },
      body: JSON.stringify({ content: `Say hello, number ${i}.`, stream: false }),
    });
    await response.text();
    statuses.push(response.status);
  }
  return statuses;
}

async function logIn(target: Page, email: string, password: string, labels = { email: "Email", password: "Password", button: "Log in" }) {
  await target.goto(`${baseUrl}/#/login`);
  await target.getByLabel(labels.email).fill(email);
  await target.getByLabel(labels.password).fill(password);
  await target.getByRole("button", { name: labels.button }).click();
  await target.locator(".sidebar").waitFor();
}

const overflow = (target: Page) => target.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
/** The charts drawn: one canvas each. */
const canvases = (target: Page) => target.locator(".chart-canvas canvas").count();

beforeAll(async () => {
  browser = await launch();
  const adminToken = await token(admin.email, admin.password);
  for (const who of [ana, ben, loner]) await call("/api/auth/signup", { body: who });
  const group = await call<{ id: number }>("/api/groups", {
    body: { name: groupName, description: "", daily_limit: 2, monthly_token_budget: 40000 },
    token: adminToken,
  });
  groupId = group.id;
  for (const who of [ana, ben]) await call(`/api/groups/${groupId}/members`, { body: { email: who.email }, token: adminToken });
  const statuses = await ask(ana, 3); // her group allows two a day: the third is refused
  expect(statuses.slice(0, 2).every((s) => s < 300)).toBe(true);
  expect(statuses[2]).toBe(429);
  await ask(ben, 1);
  await ask(loner, 1);
});

afterAll(async () => {
  await browser?.close();
});

describe("the usage dashboard", () => {
  it("shows an admin the charts, the busiest members and a group's, and downloads the CSV", async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, locale: "en-US", acceptDownloads: true });
    const page = await context.newPage();
    await logIn(page, admin.email, admin.password);
    await page.getByRole("link", { name: "Usage", exact: true }).click();
    await page.getByRole("heading", { name: "Usage", level: 1 }).waitFor();
    await page.getByRole("heading", { name: "Requests per day, by model" }).waitFor();
    await expect.poll(() => canvases(page)).toBe(4);
    const figures = page.locator(".usage-figures");
    expect(Number((await figures.locator(".usage-figure").first().locator("strong").innerText()).replace(/,/g, ""))).toBeGreaterThanOrEqual(4);
    const top = page.getByRole("region", { name: "Members who use most" });
    await top.getByRole("row", { name: new RegExp(ana.email) }).waitFor();
    await top.getByRole("row", { name: new RegExp(loner.email) }).waitFor();
    // The most requests first: Ana above the loner (other e2e files' members may use the same backend).
    const order = await top.getByRole("row").allInnerTexts();
    const rank = (email: string) => order.findIndex((row) => row.includes(email));
    expect(rank(ana.email)).toBeLessThan(rank(loner.email));
    // The text alternative of the refusals chart says Ana hit the limit once.
    const refused = page.getByRole("figure", { name: /refused because the limit was reached/ });
    // At least Ana's one (other e2e files' members, on the same backend, may have been refused too).
    await refused.getByText(/^[1-9]\d* in all over 30 days/).waitFor();
    await screenshot(page, "usage-dashboard", true);

    await page.getByLabel("Group", { exact: true }).selectOption({ label: groupName });
    await page.getByRole("region", { name: "Members who use most" }).getByRole("row", { name: new RegExp(ben.email) }).waitFor();
    await expect.poll(() => top.getByRole("row", { name: new RegExp(loner.email) }).count()).toBe(0);
    expect(page.url()).toContain(`group=${groupId}`);

    await page.getByLabel("Rows by", { exact: true }).selectOption("member");
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Download CSV" }).click()]);
    expect(download.suggestedFilename()).toMatch(/^haruchat-usage-member-\d{4}-\d{2}-\d{2}-\d{4}-\d{2}-\d{2}\.csv$/);
    const csv = readFileSync((await download.path())!, "utf8");
    expect(csv.split(/\r?\n/)[0]).toBe("member_id,email,nickname,requests,refused,failed,prompt_tokens,completion_tokens,active_members");
    expect(csv).toContain(ana.email);
    expect(csv).not.toContain(loner.email);

    await page.getByRole("button", { name: "한국어" }).click();
    await page.getByRole("heading", { name: "일별 요청 (모델별)" }).waitFor();
    await expect.poll(() => canvases(page)).toBe(4);
    await screenshot(page, "usage-dashboard-ko", true);
    await context.close();
  });

  it("fits a 390px phone, in Korean", async () => {
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: "ko-KR", isMobile: true, hasTouch: true });
    const small = await phone.newPage();
    await logIn(small, admin.email, admin.password, { email: "이메일", password: "비밀번호", button: "로그인" });
    await small.getByRole("button", { name: "메뉴", exact: true }).click();
    await small.getByRole("link", { name: "사용량", exact: true }).click();
    await small.getByRole("heading", { name: "일별 요청 (모델별)" }).waitFor();
    await expect.poll(() => canvases(small)).toBe(4);
    expect(await overflow(small)).toBeLessThanOrEqual(0);
    await screenshot(small, "usage-dashboard-ko-phone", true);
    await phone.close();
  });
});

describe("My usage", () => {
  it("shows a member today, their allowance and budget, and the last 30 days", async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, locale: "en-US" });
    const page = await context.newPage();
    await logIn(page, ana.email, ana.password);
    await page.getByRole("link", { name: "Usage", exact: true }).count().then((n) => expect(n).toBe(0));
    await page.getByRole("link", { name: "My usage" }).click();
    await page.getByRole("heading", { name: "My usage", level: 1 }).waitFor();
    await page.getByRole("region", { name: "Today" }).getByText("2 of 2 requests used").waitFor();
    await page.getByRole("region", { name: "Daily allowance" }).getByText(`from ${groupName}`).waitFor();
    await page.getByRole("region", { name: "Monthly token budget" }).getByText(/ of 40,000 tokens used/).waitFor();
    await page.getByRole("figure", { name: "Your requests per day" }).getByText(/^3 in all over 30 days/).waitFor();
    await expect.poll(() => canvases(page)).toBe(2);
    // Pointing at today's bar shows that day's figures in the legend.
    const chart = page.getByRole("figure", { name: "Your requests per day" });
    const box = (await chart.locator(".chart-canvas .u-over").boundingBox())!;
    await page.mouse.move(box.x + box.width - 3, box.y + box.height / 2);
    await expect.poll(() => chart.locator(".chart-legend-day").innerText()).not.toBe("Total");
    expect(await chart.locator(".chart-legend").innerText()).toMatch(/Requests\s*2\s*Limit reached\s*1/);
    await page.mouse.move(0, 0);
    await screenshot(page, "my-usage", true);
    await context.close();
  });

  it("fits a 390px phone, in Korean, and says when there is no budget", async () => {
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: "ko-KR", isMobile: true, hasTouch: true });
    const small = await phone.newPage();
    await logIn(small, loner.email, loner.password, { email: "이메일", password: "비밀번호", button: "로그인" });
    await small.getByRole("button", { name: "메뉴", exact: true }).click();
    await small.getByRole("link", { name: "내 사용량" }).click();
    await small.getByRole("heading", { name: "내 사용량", level: 1 }).waitFor();
    await small.getByText("적용되는 월 토큰 한도가 없습니다.").waitFor();
    await expect.poll(() => canvases(small)).toBe(2);
    expect(await overflow(small)).toBeLessThanOrEqual(0);
    await screenshot(small, "my-usage-ko-phone", true);
    await phone.close();
  });
});
