import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { MemoryRouter, Route, Routes } from "react-router";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { tokens } from "../api";
import { setConfigForTests } from "../config";
import { I18nProvider } from "../i18n";
import { ForgotPasswordPage, ResetPasswordPage } from "./PasswordResetPages";

function page(path: string) {
  return render(
    <I18nProvider>
      <MemoryRouter initialEntries={[path]}>
        <Routes>
          <Route path="/forgot" element={<ForgotPasswordPage />} />
          <Route path="/reset/:token" element={<ResetPasswordPage />} />
        </Routes>
      </MemoryRouter>
    </I18nProvider>,
  );
}

describe("password reset pages", () => {
  const sent: { url: string; body: unknown }[] = [];
  let answer: Response;

  beforeEach(() => {
    setConfigForTests({ apiBaseUrl: "http://backend.test" });
    localStorage.clear();
    localStorage.setItem("haruchat.lang", "en");
    sent.length = 0;
    answer = new Response(null, { status: 202 });
    vi.stubGlobal(
      "fetch",
      vi.fn(async (url: string, init: RequestInit) => {
        sent.push({ url, body: JSON.parse(String(init.body)) });
        return answer;
      }),
    );
  });
  afterEach(() => vi.unstubAllGlobals());

  it("asks for a link and says the same thing whatever the address", async () => {
    page("/forgot");
    fireEvent.change(screen.getByLabelText("Email"), { target: { value: "haru@example.com" } });
    fireEvent.click(screen.getByRole("button", { name: "Send the link" }));
    await waitFor(() => expect(screen.getByRole("status").textContent).toContain("If haru@example.com has an account"));
    expect(sent).toEqual([{ url: "http://backend.test/api/auth/password-reset", body: { email: "haru@example.com" } }]);
  });

  it("sets the new password with the link's token and forgets this browser's old session", async () => {
    tokens.set("old-access", "old-refresh");
    answer = new Response(null, { status: 204 });
    page("/reset/MQ.abc-123");
    fireEvent.change(screen.getByLabelText("New password"), { target: { value: "a brand new pass phrase" } });
    fireEvent.click(screen.getByRole("button", { name: "Set password" }));
    await waitFor(() => expect(screen.getByText(/Your new password is set/)).toBeTruthy());
    expect(sent[0]).toEqual({
      url: "http://backend.test/api/auth/password-reset/confirm",
      body: { token: "MQ.abc-123", password: "a brand new pass phrase" },
    });
    expect(tokens.present()).toBe(false);
  });

  it("says so when the link is used up or expired, and offers a new one", async () => {
    answer = new Response(
      JSON.stringify({ detail: "This reset link is invalid, expired or already used. Ask for a new one.", code: "invalid_reset_token" }),
      { status: 400, headers: { "Content-Type": "application/json" } },
    );
    page("/reset/used");
    fireEvent.change(screen.getByLabelText("New password"), { target: { value: "a brand new pass phrase" } });
    fireEvent.click(screen.getByRole("button", { name: "Set password" }));
    await waitFor(() => expect(screen.getByText(/invalid, expired or already used/)).toBeTruthy());
    expect(screen.getByRole("link", { name: /Ask for a new one/ }).getAttribute("href")).toBe("/forgot");
  });
});
