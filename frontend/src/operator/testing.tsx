/** Test helpers for the operator area: a fake backend at the fetch boundary, and the area rendered at a path. */
import { render } from "@testing-library/react";
import { MemoryRouter, Outlet, Route, Routes } from "react-router";
import { vi } from "vitest";
import { tokens } from "../api";
import { setConfigForTests } from "../config";
import { I18nProvider } from "../i18n";
import { AppStateProvider } from "../state";
import OperatorArea from "./index";

export interface Call {
  method: string;
  path: string;
  body: unknown;
}

type Answer = Response | ((call: Call, init: RequestInit) => Response | Promise<Response>);

export function json(body: unknown, status = 200): Response {
  return new Response(status === 204 ? null : JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json" },
  });
}

export const quota = { limit: 5, used: 0, remaining: 5, resets_at: "2026-11-26T00:00:00+09:00", time_zone: "Asia/Seoul", source: "default" };
export const admin = { id: 1, email: "admin@example.com", nickname: "Admin", is_admin: true, operates: [] };
export const operator = { id: 2, email: "op@example.com", nickname: "Op", is_admin: false, operates: [{ id: 7, name: "Class A" }] };
export const plainMember = { id: 3, email: "m@example.com", nickname: "M", is_admin: false, operates: [] };

export const classA = {
  id: 7,
  name: "Class A",
  description: "Morning cohort",
  daily_limit: 5,
  monthly_token_budget: 10000,
  models: [],
  assistants: [],
  operators: [{ id: 2, email: "op@example.com", nickname: "Op" }],
  member_count: 2,
  created_at: "2026-03-01T09:00:00Z",
};

/**
 * Stubs fetch with answers keyed "METHOD /path" (the query string included when the key has one);
 * GET /api/quota is answered unless given. Returns the calls made, bodies parsed (a form stays a FormData).
 */
export function fakeBackend(me: unknown, answers: Record<string, Answer>): Call[] {
  setConfigForTests({ apiBaseUrl: "http://backend.test" });
  tokens.set("access", "refresh");
  const calls: Call[] = [];
  const all: Record<string, Answer> = { "GET /api/quota": json(quota), "GET /api/auth/me": json(me), ...answers };
  vi.stubGlobal(
    "fetch",
    vi.fn(async (url: string, init: RequestInit = {}) => {
      const parsed = new URL(url);
      const method = (init.method ?? "GET").toUpperCase();
      let body: unknown = init.body;
      if (typeof init.body === "string") body = JSON.parse(init.body);
      const call = { method, path: parsed.pathname + parsed.search, body };
      calls.push(call);
      const answer = all[`${method} ${parsed.pathname}${parsed.search}`] ?? all[`${method} ${parsed.pathname}`];
      if (!answer) return json({ detail: `no fake for ${method} ${parsed.pathname}`, code: "not_found" }, 404);
      const response = typeof answer === "function" ? await answer(call, init) : answer.clone();
      return response;
    }),
  );
  return calls;
}

export function renderArea(path: string, lang: "en" | "ko" = "en") {
  localStorage.setItem("haruchat.lang", lang);
  return render(
    <I18nProvider>
      <MemoryRouter initialEntries={[path]}>
        <Routes>
          <Route
            element={
              <AppStateProvider>
                <Outlet />
              </AppStateProvider>
            }
          >
            <Route path="/groups/*" element={<OperatorArea />} />
            <Route path="/" element={<p>home</p>} />
          </Route>
        </Routes>
      </MemoryRouter>
    </I18nProvider>,
  );
}
