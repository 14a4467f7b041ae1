import { render, screen } from "@testing-library/react";
import { MemoryRouter } from "react-router";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { tokens } from "../api";
import { setConfigForTests } from "../config";
import { I18nProvider } from "../i18n";
import { AccountPage } from "./AccountPage";

function json(body: unknown): Response {
  return new Response(JSON.stringify(body), { status: 200, headers: { "Content-Type": "application/json" } });
}

const READ = {
  id: 1,
  reader: { id: 9, email: "teacher@example.com" },
  member: { id: 2, email: "alice@example.com" },
  group: { id: 3, name: "Class 3-B" },
  action: "read",
  conversation_id: 5,
  conversation_title: "my essay",
  created_at: "2026-12-03T10:00:00Z",
};

function answering(policy: boolean, reads: unknown[]) {
  const answers: Record<string, unknown> = {
    "/api/auth/me": { id: 2, email: "alice@example.com", nickname: "alice", is_admin: false, operates: [] },
    "/api/auth/social-accounts": [],
    "/api/auth/registration": { mode: "open", domains: [], operator_reads_history: policy },
    "/api/auth/me/audit": reads,
  };
  vi.stubGlobal(
    "fetch",
    vi.fn(async (url: string) => json(answers[new URL(url).pathname] ?? [])),
  );
}

function page() {
  return render(
    <I18nProvider>
      <MemoryRouter>
        <AccountPage />
      </MemoryRouter>
    </I18nProvider>,
  );
}

describe("the account page says who may read the member's conversations", () => {
  beforeEach(() => {
    setConfigForTests({ apiBaseUrl: "http://backend.test" });
    localStorage.clear();
    localStorage.setItem("haruchat.lang", "en");
    tokens.set("access", "refresh");
  });
  afterEach(() => vi.unstubAllGlobals());

  it("with the policy off: no operator reads, admins' downloads said and listed", async () => {
    answering(false, []);
    page();
    expect(await screen.findByText(/operators can't read your conversations/)).toBeTruthy();
    expect(screen.getByText(/admins can download a group's conversations/)).toBeTruthy();
    expect(screen.getByText("Nobody has read your conversations.")).toBeTruthy();
  });

  it("lists a group archive download as such", async () => {
    answering(false, [{ ...READ, id: 9, action: "export", conversation_id: null, conversation_title: "" }]);
    page();
    expect(await screen.findByText(/teacher@example.com downloaded your conversations with the group's archive \(Class 3-B\)/)).toBeTruthy();
  });

  it("with the policy on: each read, by whom and of what", async () => {
    answering(true, [READ]);
    page();
    expect(await screen.findByText(/operators may read your conversations/)).toBeTruthy();
    expect(await screen.findByText(/teacher@example.com read “my essay” \(Class 3-B\)/)).toBeTruthy();
  });
});
