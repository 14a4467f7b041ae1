import { act, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { MemoryRouter, Route, Routes } from "react-router";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { tokens } from "../api";
import { setConfigForTests } from "../config";
import { I18nProvider } from "../i18n";
import { AppStateProvider } from "../state";
import { ConversationPage } from "./ConversationPage";

const conversation = {
  id: 7, title: "Tea", assistant: "free-chat", source: "web", model: "m", temperature: 0.7, max_tokens: 64,
  created_at: "", updated_at: "", system_prompt: "", intake_answers: [], messages: [], awaiting_reply: false,
};
const quota = { limit: 5, used: 0, remaining: 5, resets_at: "2026-11-26T00:00:00+09:00", time_zone: "Asia/Seoul" };

function json(body: unknown): Response {
  return new Response(JSON.stringify(body), { status: 200, headers: { "Content-Type": "application/json" } });
}

/** A streamed answer that sends `start` and one delta, then waits until the request is aborted. */
function endlessStream(signal: AbortSignal): Response {
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      const user = { id: 1, role: "user", content: "hello", created_at: "", completion_id: null };
      controller.enqueue(encoder.encode(`event: start\ndata: ${JSON.stringify({ user_message: user, completion_id: 1, quota })}\n\n`));
      controller.enqueue(encoder.encode('event: delta\ndata: {"content": "Once upon"}\n\n'));
      signal.addEventListener("abort", () => controller.error(new DOMException("aborted", "AbortError")));
    },
  });
  return new Response(body, { status: 200, headers: { "Content-Type": "text/event-stream" } });
}

describe("ConversationPage", () => {
  beforeEach(() => {
    setConfigForTests({ apiBaseUrl: "http://backend.test" });
    localStorage.clear();
    localStorage.setItem("haruchat.lang", "en");
    tokens.set("access", "refresh");
    vi.stubGlobal(
      "fetch",
      vi.fn(async (url: string, init?: RequestInit) => {
        if (url.endsWith("/api/quota")) return json(quota);
        if (url.endsWith("/messages")) return endlessStream(init!.signal!);
        return json(conversation);
      }),
    );
  });
  afterEach(() => vi.unstubAllGlobals());

  it("streams the answer in and stops it on request", async () => {
    render(
      <I18nProvider>
        <AppStateProvider>
          <MemoryRouter initialEntries={["/c/7"]}>
            <Routes>
              <Route path="/c/:id" element={<ConversationPage />} />
            </Routes>
          </MemoryRouter>
        </AppStateProvider>
      </I18nProvider>,
    );
    await screen.findByRole("heading", { name: "Tea" });
    const composer = screen.getByLabelText("Message (Enter to send, Shift+Enter for a new line)");
    fireEvent.change(composer, { target: { value: "hello" } });
    fireEvent.keyDown(composer, { key: "Enter" });
    expect(await screen.findByText("Once upon")).toBeTruthy();
    await act(async () => {
      fireEvent.click(screen.getByRole("button", { name: "Stop" }));
    });
    await waitFor(() => expect(screen.getByText("Stopped.")).toBeTruthy());
    expect(screen.getByRole("button", { name: "Send" })).toBeTruthy();
  });
});
