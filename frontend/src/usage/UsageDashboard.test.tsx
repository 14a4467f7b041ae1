import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { App } from "../App";
import { admin, classA, fakeBackend, json, operator, plainMember, type Call } from "../operator/testing";
import { renderUsage, report, row } from "./testing";

beforeEach(() => localStorage.clear());
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
  window.location.hash = "";
});

const classB = { ...classA, id: 8, name: "Class B" };
const RANGE = "/usage?from=2026-11-01&to=2026-11-03";

/** Seven models (so the five most used are drawn, the rest as "other") and twelve members. */
function usageAnswer(call: Call): Response {
  const query = new URL(`http://x${call.path}`).searchParams;
  const by = query.get("by");
  const model = query.get("model");
  if (by === "day" && model) {
    const n = Number(model.slice(1));
    return json(report("day", [row({ day: "2026-11-02", requests: n })]));
  }
  if (by === "day") {
    return json(
      report("day", [
        row({ day: "2026-11-01", requests: 4, refused: 2, prompt_tokens: 100, completion_tokens: 50 }),
        row({ day: "2026-11-02", requests: 28, failed: 1, prompt_tokens: 1200, completion_tokens: 800 }),
      ], { active_members: 12 }),
    );
  }
  if (by === "model") {
    return json(report("model", [1, 2, 3, 4, 5, 6, 7].map((n) => row({ model: `m${n}`, requests: n }))));
  }
  if (by === "member") {
    return json(
      report(
        "member",
        Array.from({ length: 12 }, (_, i) => row({ member: { id: i + 1, email: `p${i + 1}@example.com`, nickname: `P${i + 1}` }, requests: i + 1 })),
      ),
    );
  }
  return json({ detail: "no", code: "not_found" }, 404);
}

describe("the usage dashboard", () => {
  it("shows an admin the totals, requests by model, tokens, refusals, failures and the top ten members", async () => {
    const calls = fakeBackend(admin, { "GET /api/groups": json([classA, classB]), "GET /api/usage": usageAnswer });
    renderUsage(RANGE);
    await screen.findByRole("heading", { name: "Requests per day, by model" });
    const figures = screen.getByText("Active members").closest("dl")!;
    expect(figures.textContent).toContain("Requests32");
    expect(figures.textContent).toContain("Tokens2,150");
    expect(figures.textContent).toContain("Active members12");
    expect(figures.textContent).toContain("Limit reached2");
    expect(figures.textContent).toContain("Failures1");

    // The five most used models one by one, the other two together; the day without a row is 0.
    const requests = screen.getByRole("figure", { name: "Requests per day, by model" });
    const header = within(requests).getAllByRole("columnheader").map((th) => th.textContent);
    expect(header).toEqual(["Day", "m7", "m6", "m5", "m4", "m3", "Other models", "Total"]);
    const rows = within(requests).getAllByRole("row").slice(1);
    expect(rows.map((r) => [...r.children].map((c) => c.textContent))).toEqual([
      ["Nov 1, 2026", "0", "0", "0", "0", "0", "4", "4"],
      ["Nov 2, 2026", "7", "6", "5", "4", "3", "3", "28"],
      ["Nov 3, 2026", "0", "0", "0", "0", "0", "0", "0"],
    ]);
    expect(within(requests).getByText(/32 in all over 3 days; the busiest day was Nov 2 with 28\./)).toBeTruthy();
    const paths = calls.filter((c) => c.path.startsWith("/api/usage")).map((c) => c.path);
    expect(paths).toContain("/api/usage?from=2026-11-01&to=2026-11-03&by=day&model=m7");
    expect(paths.filter((p) => p.includes("model="))).toHaveLength(5);

    const tokens = screen.getByRole("figure", { name: "Tokens per day" });
    expect(within(tokens).getAllByRole("columnheader").map((th) => th.textContent)).toEqual([
      "Day",
      "Prompt tokens",
      "Completion tokens",
      "Total",
    ]);
    expect(screen.getByRole("figure", { name: /refused because the limit was reached/ }).textContent).toContain("2 in all");
    expect(screen.getByRole("figure", { name: "Failed calls per day" }).textContent).toContain("1 in all");

    const top = screen.getByRole("region", { name: "Members who use most" });
    const members = within(top).getAllByRole("row").slice(1);
    expect(members).toHaveLength(10);
    expect(members[0].textContent).toContain("P12");
    expect(members[9].textContent).toContain("P3");
  });

  it("narrows to a group, changes the range, and downloads the same report as CSV", async () => {
    const calls = fakeBackend(admin, {
      "GET /api/groups": json([classA, classB]),
      "GET /api/usage": (call) =>
        call.path.includes("format=csv")
          ? new Response("day,requests\n", {
              headers: { "Content-Type": "text/csv", "Content-Disposition": 'attachment; filename="haruchat-usage-member.csv"' },
            })
          : usageAnswer(call),
    });
    const created = vi.fn(() => "blob:csv");
    Object.assign(URL, { createObjectURL: created, revokeObjectURL: vi.fn() }); // jsdom has neither
    const click = vi.spyOn(HTMLAnchorElement.prototype, "click").mockImplementation(() => undefined);
    renderUsage(RANGE);
    await screen.findByRole("heading", { name: "Requests per day, by model" });
    const group = screen.getByLabelText("Group");
    expect([...group.querySelectorAll("option")].map((o) => o.textContent)).toEqual(["All groups", "Class A", "Class B"]);
    fireEvent.change(group, { target: { value: "8" } });
    await waitFor(() => expect(calls.some((c) => c.path === "/api/usage?from=2026-11-01&to=2026-11-03&by=day&group=8")).toBe(true));

    fireEvent.change(screen.getByLabelText("From"), { target: { value: "2026-11-05" } });
    expect(screen.getByRole("alert").textContent).toContain("The start must not be after the end");
    fireEvent.change(screen.getByLabelText("From"), { target: { value: "2026-10-30" } });
    await waitFor(() => expect(calls.some((c) => c.path === "/api/usage?from=2026-10-30&to=2026-11-03&by=member&group=8&limit=10")).toBe(true));
    expect(screen.queryByRole("alert")).toBeNull();

    fireEvent.change(screen.getByLabelText("Rows by"), { target: { value: "member" } });
    fireEvent.click(screen.getByRole("button", { name: "Download CSV" }));
    await waitFor(() => expect(click).toHaveBeenCalled());
    const csv = vi.mocked(fetch).mock.calls.find(([url]) => String(url).includes("format=csv"))!;
    expect(String(csv[0])).toBe("http://backend.test/api/usage?from=2026-10-30&to=2026-11-03&by=member&group=8&format=csv");
    expect(new Headers(csv[1]!.headers).get("Authorization")).toBe("Bearer access");
    expect(created).toHaveBeenCalled();
    click.mockRestore();
  });

  it("offers an operator their own groups, without asking for all of them", async () => {
    const calls = fakeBackend(operator, { "GET /api/usage": usageAnswer });
    renderUsage(RANGE);
    await screen.findByRole("heading", { name: "Requests per day, by model" });
    const group = screen.getByLabelText("Group");
    expect([...group.querySelectorAll("option")].map((o) => o.textContent)).toEqual(["All my groups", "Class A"]);
    expect(calls.some((c) => c.path === "/api/groups")).toBe(false);
  });

  it("says when there was no use, and offers to retry when loading fails", async () => {
    let fail = true;
    fakeBackend(admin, {
      "GET /api/groups": json([]),
      "GET /api/usage": (call) =>
        fail ? json({ detail: "Database unavailable.", code: "unavailable" }, 503) : json(report(new URL(`http://x${call.path}`).searchParams.get("by")!, [])),
    });
    renderUsage(RANGE);
    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toContain("The server had a problem. Try again in a moment.");
    fail = false;
    fireEvent.click(within(alert).getByRole("button", { name: "Try again" }));
    expect(await screen.findByText("No usage in this period.")).toBeTruthy();
    expect(screen.queryByRole("figure")).toBeNull();
  });

  it("says a group that isn't yours is not found", async () => {
    fakeBackend(operator, { "GET /api/usage": json({ detail: "No such group.", code: "not_found" }, 404) });
    renderUsage("/usage?from=2026-11-01&to=2026-11-03&group=99");
    expect((await screen.findByRole("alert")).textContent).toContain("No such group, or it isn't yours to look at.");
  });

  it("is closed to a member who runs no group", async () => {
    fakeBackend(plainMember, {});
    renderUsage(RANGE);
    expect(await screen.findByText("This page is for groups' operators and admins.")).toBeTruthy();
  });

  it("speaks Korean", async () => {
    fakeBackend(admin, { "GET /api/groups": json([classA]), "GET /api/usage": usageAnswer });
    renderUsage(RANGE, "ko");
    await screen.findByRole("heading", { name: "사용량" });
    await screen.findByRole("heading", { name: "일별 요청 (모델별)" });
    expect(screen.getByRole("heading", { name: "가장 많이 쓰는 멤버" })).toBeTruthy();
    expect(screen.getByRole("button", { name: "CSV 내려받기" })).toBeTruthy();
    expect(screen.getByLabelText("그룹").querySelector("option")!.textContent).toBe("모든 그룹");
  });
});

describe("the sidebar's usage links", () => {
  function renderApp(me: unknown) {
    fakeBackend(me, {
      "GET /api/conversations": json({ next: null, previous: null, results: [] }),
      "GET /api/assistants": json([]),
      "GET /api/groups": json([classA]),
      "GET /api/usage": usageAnswer,
    });
    localStorage.setItem("haruchat.lang", "en");
    window.location.hash = "#/";
    return render(<App />);
  }

  it("has Usage for an operator, which opens the dashboard (loaded on demand)", async () => {
    renderApp(operator);
    fireEvent.click(await screen.findByRole("link", { name: "Usage" }));
    await screen.findByRole("heading", { name: "Requests per day, by model" });
  });

  it("has only My usage for a member who runs nothing", async () => {
    renderApp(plainMember);
    await screen.findByRole("link", { name: "My usage" });
    await waitFor(() => expect(vi.mocked(fetch).mock.calls.some(([url]) => String(url).endsWith("/api/auth/me"))).toBe(true));
    await new Promise((r) => setTimeout(r, 20));
    expect(screen.queryByRole("link", { name: "Usage" })).toBeNull();
  });
});
