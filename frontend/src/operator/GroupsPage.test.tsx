import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { App } from "../App";
import { admin, classA, fakeBackend, json, operator, plainMember, renderArea } from "./testing";

beforeEach(() => localStorage.clear());
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
  window.location.hash = "";
});

describe("the operator area's group list", () => {
  it("shows an admin every group with its members and limits, and a form to create one", async () => {
    const calls = fakeBackend(admin, {
      "GET /api/groups": json([classA]),
      "POST /api/groups": json({ ...classA, id: 9, name: "Class B" }, 201),
      "GET /api/groups/9": json({ ...classA, id: 9, name: "Class B" }),
      "GET /api/groups/9/members": json([]),
    });
    renderArea("/groups");
    const card = await screen.findByRole("link", { name: /Class A/ });
    expect(card.textContent).toContain("2 members");
    expect(card.textContent).toContain("5 a day");
    expect(card.textContent).toContain("10,000 tokens a month");
    expect(card.textContent).toContain("Run by Op");

    const form = screen.getByRole("form", { name: "Create a group" });
    fireEvent.change(within(form).getByLabelText("Name"), { target: { value: " Class B " } });
    fireEvent.change(within(form).getByLabelText("Daily requests per member"), { target: { value: "3" } });
    fireEvent.click(within(form).getByRole("button", { name: "Create" }));
    await screen.findByRole("heading", { name: "Class B" });
    expect(calls.find((c) => c.method === "POST")).toEqual({
      method: "POST",
      path: "/api/groups",
      body: { name: "Class B", description: "", daily_limit: 3, monthly_token_budget: null },
    });
    expect(await screen.findByText(/No members yet/)).toBeTruthy();
  });

  it("shows an operator their groups and no create form", async () => {
    fakeBackend(operator, { "GET /api/groups": json([classA]) });
    renderArea("/groups");
    await screen.findByRole("link", { name: /Class A/ });
    expect(screen.queryByRole("form", { name: "Create a group" })).toBeNull();
  });

  it("says so when there are no groups yet, and when loading fails offers to retry", async () => {
    let fail = true;
    fakeBackend(admin, {
      "GET /api/groups": () => (fail ? json({ detail: "Database unavailable.", code: "unavailable" }, 503) : json([])),
    });
    renderArea("/groups");
    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toContain("The server had a problem. Try again in a moment.");
    fail = false;
    fireEvent.click(within(alert).getByRole("button", { name: "Try again" }));
    expect(await screen.findByText("No groups yet.")).toBeTruthy();
  });

  it("is closed to a member who runs no group", async () => {
    fakeBackend(plainMember, {});
    renderArea("/groups");
    expect(await screen.findByText("This area is for groups' operators and admins.")).toBeTruthy();
  });

  it("speaks Korean", async () => {
    fakeBackend(admin, { "GET /api/groups": json([classA]) });
    renderArea("/groups", "ko");
    await screen.findByRole("heading", { name: "그룹" });
    const card = await screen.findByRole("link", { name: /Class A/ });
    expect(card.textContent).toContain("멤버 2명");
    expect(card.textContent).toContain("하루 5회");
    expect(screen.getByRole("form", { name: "그룹 만들기" })).toBeTruthy();
  });
});

describe("the sidebar's Groups link", () => {
  function renderApp(me: unknown) {
    fakeBackend(me, {
      "GET /api/conversations": json({ next: null, previous: null, results: [] }),
      "GET /api/assistants": json([]),
      "GET /api/groups": json([classA]),
    });
    localStorage.setItem("haruchat.lang", "en");
    window.location.hash = "#/";
    return render(<App />);
  }

  it("is there for an operator, and opens the area (loaded on demand)", async () => {
    renderApp(operator);
    const link = await screen.findByRole("link", { name: "Groups" });
    fireEvent.click(link);
    await screen.findByRole("heading", { name: "Groups" });
    expect(await screen.findByRole("link", { name: /Class A/ })).toBeTruthy();
  });

  it("is not there for a member who runs nothing", async () => {
    renderApp(plainMember);
    await screen.findByRole("link", { name: "Account" });
    await waitFor(() => expect(vi.mocked(fetch).mock.calls.some(([url]) => String(url).endsWith("/api/auth/me"))).toBe(true));
    await new Promise((r) => setTimeout(r, 20));
    expect(screen.queryByRole("link", { name: "Groups" })).toBeNull();
  });
});
