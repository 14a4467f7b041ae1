import { cleanup, fireEvent, screen, within } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { fakeBackend, json, plainMember, quota } from "../operator/testing";
import { addDays, today } from "./data";
import { renderUsage, report, row } from "./testing";

beforeEach(() => localStorage.clear());
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const withBudget = {
  ...quota,
  limit: 20,
  used: 7,
  remaining: 13,
  source: "group",
  group: { id: 7, name: "Class A" },
  tokens: { limit: 50000, used: 12000, reserved: 300, remaining: 37700, resets_at: "2026-12-01T00:00:00+09:00", group: { id: 7, name: "Class A" } },
};

describe("My usage", () => {
  it("shows today, the allowance, the token budget and the last 30 days", async () => {
    const day = today("Asia/Seoul");
    const calls = fakeBackend(plainMember, {
      "GET /api/quota": json(withBudget),
      "GET /api/usage": json(
        report("day", [
          row({ day: addDays(day, -1), requests: 5, refused: 1, prompt_tokens: 900, completion_tokens: 400 }),
          row({ day, requests: 7, prompt_tokens: 1000, completion_tokens: 600 }),
        ]),
      ),
    });
    renderUsage("/my-usage");
    await screen.findByRole("heading", { name: "My usage", level: 1 });
    const todayCard = await screen.findByRole("region", { name: "Today" });
    expect(todayCard.textContent).toContain("7 of 20 requests used");
    expect(todayCard.textContent).toContain("13 left");
    expect(todayCard.textContent).toContain("Resets at 00:00 (Asia/Seoul)");
    expect(within(todayCard).getByRole("meter").getAttribute("aria-valuenow")).toBe("7");
    expect(screen.getByRole("region", { name: "Daily allowance" }).textContent).toContain("20 requests a day");
    expect(screen.getByRole("region", { name: "Daily allowance" }).textContent).toContain("from Class A");
    const budget = screen.getByRole("region", { name: "Monthly token budget" });
    expect(budget.textContent).toContain("12,000 of 50,000 tokens used");
    expect(budget.textContent).toContain("37,700 left");
    expect(budget.textContent).toContain("300 held for answers in progress");
    expect(budget.textContent).toContain("Resets on 1 Dec 2026");

    const requests = await screen.findByRole("figure", { name: "Your requests per day" });
    expect(within(requests).getAllByRole("row")).toHaveLength(31); // the header and 30 days
    expect(requests.textContent).toContain("13 in all over 30 days");
    expect(screen.getByRole("figure", { name: "Your tokens per day" }).textContent).toContain("2,900 in all");
    const asked = calls.find((c) => c.path.startsWith("/api/usage"))!.path;
    expect(asked).toBe(`/api/usage?from=${addDays(day, -29)}&to=${day}&by=day&member=me`);
  });

  it("says when there is no token budget and no use, in Korean too", async () => {
    fakeBackend(plainMember, { "GET /api/quota": json({ ...quota, group: null, tokens: null }), "GET /api/usage": json(report("day", [])) });
    renderUsage("/my-usage", "ko");
    await screen.findByRole("heading", { name: "내 사용량", level: 1 });
    expect((await screen.findByRole("region", { name: "월 토큰 한도" })).textContent).toContain("적용되는 월 토큰 한도가 없습니다.");
    expect(await screen.findByText("최근 30일 동안 haruchat을 사용하지 않았습니다.")).toBeTruthy();
    expect(screen.getByRole("region", { name: "하루 사용량" }).textContent).toContain("하루 5회");
    expect(screen.queryByRole("figure")).toBeNull();
  });

  it("offers to retry when the history can't be loaded", async () => {
    let fail = true;
    fakeBackend(plainMember, {
      "GET /api/usage": () => (fail ? json({ detail: "boom", code: "error" }, 500) : json(report("day", [row({ day: today("Asia/Seoul"), requests: 2 })]))),
    });
    renderUsage("/my-usage");
    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toContain("The server had a problem.");
    fail = false;
    fireEvent.click(within(alert).getByRole("button", { name: "Try again" }));
    expect(await screen.findByRole("figure", { name: "Your requests per day" })).toBeTruthy();
  });
});
