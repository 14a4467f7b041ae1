/** Test helpers for the usage pages: a page rendered at a path, inside the app's state, as the app does. */
import { render } from "@testing-library/react";
import { MemoryRouter, Outlet, Route, Routes } from "react-router";
import { I18nProvider } from "../i18n";
import { AppStateProvider } from "../state";
import MyUsagePage from "./MyUsagePage";
import UsageDashboard from "./UsageDashboard";

export function renderUsage(path: string, lang: "en" | "ko" = "en") {
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
            <Route path="/usage" element={<UsageDashboard />} />
            <Route path="/my-usage" element={<MyUsagePage />} />
          </Route>
        </Routes>
      </MemoryRouter>
    </I18nProvider>,
  );
}

const zero = { requests: 0, refused: 0, failed: 0, prompt_tokens: 0, completion_tokens: 0, active_members: 0 };

/** A usage row: the metrics not given are 0. */
export const row = (fields: Record<string, unknown>) => ({ ...zero, ...fields });

export function report(by: string, rows: Record<string, unknown>[], totals: Record<string, unknown> = {}) {
  const sumOf = (name: keyof typeof zero) => rows.reduce((s, r) => s + Number(r[name] ?? 0), 0);
  return {
    time_zone: "Asia/Seoul",
    by,
    rows,
    totals: {
      requests: sumOf("requests"),
      refused: sumOf("refused"),
      failed: sumOf("failed"),
      prompt_tokens: sumOf("prompt_tokens"),
      completion_tokens: sumOf("completion_tokens"),
      active_members: 1,
      ...totals,
    },
  };
}
