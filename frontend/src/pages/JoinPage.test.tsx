import { render, screen, waitFor } from "@testing-library/react";
import { MemoryRouter, Route, Routes } from "react-router";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { inviteCodeIn, tokens } from "../api";
import { setConfigForTests } from "../config";
import { I18nProvider } from "../i18n";
import { JoinPage } from "./JoinPage";
import { SignupPage } from "./AuthPages";

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}

function at(path: string) {
  return render(
    <I18nProvider>
      <MemoryRouter initialEntries={[path]}>
        <Routes>
          <Route path="/join/:code" element={<JoinPage />} />
          <Route path="/signup" element={<SignupPage />} />
        </Routes>
      </MemoryRouter>
    </I18nProvider>,
  );
}

describe("invite links", () => {
  const sent: { url: string; body?: unknown }[] = [];
  let answers: Record<string, Response>;

  beforeEach(() => {
    setConfigForTests({ apiBaseUrl: "http://backend.test" });
    localStorage.clear();
    localStorage.setItem("haruchat.lang", "en");
    tokens.set("access", "refresh");
    sent.length = 0;
    vi.stubGlobal(
      "fetch",
      vi.fn(async (url: string, init: RequestInit = {}) => {
        sent.push({ url, body: init.body ? JSON.parse(String(init.body)) : undefined });
        return answers[new URL(url).pathname];
      }),
    );
  });
  afterEach(() => vi.unstubAllGlobals());

  it("finds the code in a join link and nowhere else", () => {
    expect(inviteCodeIn("/join/Ab-3_x")).toBe("Ab-3_x");
    expect(inviteCodeIn("/c/7")).toBeNull();
    expect(inviteCodeIn("/join/a/b")).toBeNull();
  });

  it("joins the group and says which", async () => {
    answers = { "/api/auth/join": json({ id: 3, name: "Class A", description: "", daily_limit: null }) };
    at("/join/CODE1");
    await waitFor(() => expect(screen.getByRole("status").textContent).toContain("You are in Class A."));
    expect(sent).toEqual([{ url: "http://backend.test/api/auth/join", body: { code: "CODE1" } }]);
  });

  it("says so when the link is dead", async () => {
    answers = { "/api/auth/join": json({ detail: "x", code: "invalid_invite" }, 400) };
    at("/join/OLD");
    await waitFor(() => expect(screen.getByText(/unknown, expired, revoked or used up/)).toBeTruthy());
  });

  it("on an invite-only server, offers sign-up only with an invite link, and sends its code", async () => {
    tokens.clear();
    answers = { "/api/auth/registration": json({ mode: "invite", domains: [] }) };
    const page = at("/signup");
    await waitFor(() => expect(screen.getByText(/needs an invite link/)).toBeTruthy());
    expect(screen.queryByRole("button", { name: "Sign up" })).toBeNull();
    page.unmount();
    answers = { "/api/auth/registration": json({ mode: "invite", domains: [] }) };
    at("/signup?next=%2Fjoin%2FCODE2");
    await waitFor(() => expect(screen.getByText(/signing up with an invite/)).toBeTruthy());
    expect(screen.getByRole("button", { name: "Sign up" })).toBeTruthy();
  });
});
