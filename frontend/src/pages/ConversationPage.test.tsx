import { act, cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { MemoryRouter, Route, Routes } from "react-router";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { tokens } from "../api";
import { setConfigForTests } from "../config";
import { I18nProvider } from "../i18n";
import { Sidebar } from "../components/Sidebar";
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

/** A streamed answer, whole: the member's message stored, the answer in two deltas, then stored. */
function finishedStream(content: string, answer: string): Response {
  const encoder = new TextEncoder();
  const user = { id: 1, role: "user", content, created_at: "", completion_id: null };
  const assistant = { id: 2, role: "assistant", content: answer, created_at: "", completion_id: 1 };
  const half = Math.floor(answer.length / 2);
  const events = [
    `event: start\ndata: ${JSON.stringify({ user_message: user, completion_id: 1, quota })}\n\n`,
    `event: delta\ndata: ${JSON.stringify({ content: answer.slice(0, half) })}\n\n`,
    `event: delta\ndata: ${JSON.stringify({ content: answer.slice(half) })}\n\n`,
    `event: done\ndata: ${JSON.stringify({ assistant_message: assistant, completion_id: 1, finish_reason: "stop", usage: {}, quota })}\n\n`,
  ];
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      events.forEach((event) => controller.enqueue(encoder.encode(event)));
      controller.close();
    },
  });
  return new Response(body, { status: 200, headers: { "Content-Type": "text/event-stream" } });
}

/** The conversation page and the sidebar, inside the app's state, as the app lays them out. */
function renderChat(path = "/c/7") {
  return render(
    <I18nProvider>
      <AppStateProvider>
        <MemoryRouter initialEntries={[path]}>
          <Routes>
            <Route
              path="/c/:id"
              element={
                <>
                  <Sidebar />
                  <ConversationPage />
                </>
              }
            />
          </Routes>
        </MemoryRouter>
      </AppStateProvider>
    </I18nProvider>,
  );
}

/**
 * A backend that keeps one conversation: it is untitled until its first message names it (as the
 * server does), and PATCH renames it.
 */
function fakeBackend(answer: string) {
  const stored = { ...conversation, title: "", messages: [] as unknown[] };
  return vi.fn(async (url: string, init?: RequestInit) => {
    if (url.endsWith("/api/quota")) return json(quota);
    if (url.endsWith("/api/auth/me")) return json({ id: 1, email: "a@example.com", nickname: "a", operates: [] });
    if (url.includes("/api/conversations?") || url.endsWith("/api/conversations")) {
      return json({ next: null, previous: null, results: [stored] });
    }
    if (url.endsWith("/messages")) {
      const { content } = JSON.parse(String(init!.body)) as { content: string };
      stored.title ||= content;
      return finishedStream(content, answer);
    }
    if (init?.method === "PATCH") stored.title = (JSON.parse(String(init.body)) as { title: string }).title;
    return json(stored);
  });
}

async function send(text: string) {
  const composer = screen.getByLabelText("Message (Enter to send, Shift+Enter for a new line)");
  fireEvent.change(composer, { target: { value: text } });
  fireEvent.keyDown(composer, { key: "Enter" });
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
  afterEach(() => {
    cleanup();
    vi.unstubAllGlobals();
    document.title = "haruchat";
  });

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

  it("shows the conversation's title in its header and the tab, after the first exchange and a rename", async () => {
    vi.stubGlobal("fetch", fakeBackend("Hi!"));
    renderChat();
    const heading = await screen.findByRole("heading", { name: "New conversation" });
    await waitFor(() => expect(document.title).toBe("New conversation · haruchat"));

    await send("Tea for two");
    await screen.findByText("Hi!");
    await waitFor(() => expect(heading.textContent).toBe("Tea for two"));
    expect(document.title).toBe("Tea for two · haruchat");

    vi.stubGlobal("prompt", () => "Afternoon tea");
    const item = screen.getByRole("link", { name: "Tea for two" }).closest("li")!;
    await act(async () => fireEvent.click(within(item).getByRole("button", { name: "Rename" })));
    await waitFor(() => expect(heading.textContent).toBe("Afternoon tea"));
    expect(document.title).toBe("Afternoon tea · haruchat");
  });

  it("copies an answer's whole Markdown text", async () => {
    const answer = "Use **this**:\n\n```python\nprint('hi')\n```\n\n- done";
    vi.stubGlobal("fetch", fakeBackend(answer));
    const writeText = vi.fn(async (_text: string) => undefined);
    Object.defineProperty(navigator, "clipboard", { value: { writeText }, configurable: true });
    renderChat();
    await screen.findByRole("heading", { name: "New conversation" });
    await send("Show me");
    const copy = await screen.findByRole("button", { name: "Copy answer" });
    await act(async () => fireEvent.click(copy));
    expect(writeText).toHaveBeenCalledWith(answer);
    expect(copy.textContent).toBe("Copied");
  });
});
