import { act, cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { MemoryRouter, Route, Routes } from "react-router";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { tokens, type Message } from "../api";
import { setConfigForTests } from "../config";
import { I18nProvider } from "../i18n";
import { Sidebar } from "../components/Sidebar";
import { eventStream, json, message, requestOf, scriptedStream, sse, type ScriptedStream } from "../hooks/answerStreamTesting";
import { AppStateProvider } from "../state";
import { ConversationPage } from "./ConversationPage";

const conversation = {
  id: 7, title: "Tea", assistant: "free-chat", source: "web", model: "m", temperature: 0.7, max_tokens: 64,
  created_at: "", updated_at: "", system_prompt: "", intake_answers: [], messages: [] as Message[], current_leaf_id: null as number | null,
  awaiting_reply: false,
};
const quota = { limit: 5, used: 0, remaining: 5, resets_at: "2026-11-26T00:00:00+09:00", time_zone: "Asia/Seoul" };

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
 * A backend that keeps one conversation as the server does: a tree of messages and a current leaf.
 * It is untitled until its first message names it; PATCH renames it or switches branch (down by the
 * newest children). Answers stream whole (in two deltas) with `answer`'s text, or, with `hold`, the
 * test writes them (`streams`). Every request is kept (`requests`).
 */
function fakeBackend(answer = "Hi!", { hold = false } = {}) {
  const stored = { ...conversation, title: "", messages: [] as Message[], current_leaf_id: null as number | null };
  const requests: ReturnType<typeof requestOf>[] = [];
  const streams: ScriptedStream[] = [];
  const newId = () => Math.max(0, ...stored.messages.map((m) => m.id)) + 1;
  const detail = () => json(stored);
  const newestLeafUnder = (id: number): number => {
    const children = stored.messages.filter((m) => m.parent_id === id);
    return children.length ? newestLeafUnder(Math.max(...children.map((m) => m.id))) : id;
  };
  function answerTo(user: Message, signal?: AbortSignal | null): Response {
    const placeholder = message({ id: newId(), parent_id: user.id, role: "assistant", status: "generating" });
    stored.messages.push(placeholder);
    stored.current_leaf_id = placeholder.id;
    const start = sse("start", { user_message: user, assistant_message: placeholder, completion_id: placeholder.id, quota });
    if (hold) {
      const stream = scriptedStream(signal);
      streams.push(stream);
      stream.send("start", { user_message: user, assistant_message: placeholder, completion_id: placeholder.id, quota });
      return stream.response;
    }
    const whole = { ...placeholder, content: answer, status: "" as const, completion_id: placeholder.id };
    stored.messages[stored.messages.indexOf(placeholder)] = whole;
    const half = Math.floor(answer.length / 2);
    return eventStream(
      start,
      sse("delta", { content: answer.slice(0, half) }, half),
      sse("delta", { content: answer.slice(half) }, answer.length),
      sse("done", { assistant_message: whole, completion_id: whole.id, finish_reason: "stop", usage: {}, quota }),
    );
  }
  const fetchMock = vi.fn(async (url: string, init?: RequestInit) => {
    const request = requestOf([url, init]);
    requests.push(request);
    const { method, path, body } = request;
    if (path === "/api/quota") return json(quota);
    if (path === "/api/auth/me") return json({ id: 1, email: "a@example.com", nickname: "a", operates: [] });
    if (path === "/api/conversations") return json({ next: null, previous: null, results: [stored] });
    if (path === "/api/conversations/7/messages" && method === "POST") {
      const { content, parent_id: parentId } = body as { content: string; parent_id?: number | null };
      stored.title ||= content;
      const user = message({ id: newId(), parent_id: parentId === undefined ? stored.current_leaf_id : parentId, role: "user", content });
      stored.messages.push(user);
      return answerTo(user, init?.signal);
    }
    const regenerate = /^\/api\/conversations\/7\/messages\/(\d+)\/regenerate$/.exec(path);
    if (regenerate) {
      const old = stored.messages.find((m) => m.id === Number(regenerate[1]))!;
      return answerTo(stored.messages.find((m) => m.id === old.parent_id)!, init?.signal);
    }
    if (/\/stream$/.test(path)) {
      const stream = scriptedStream(init?.signal);
      streams.push(stream);
      return stream.response;
    }
    if (/\/stop$/.test(path)) return json(stored.messages.at(-1), 202);
    if (method === "PATCH") {
      const change = body as { title?: string; current_leaf_id?: number };
      if (change.title) stored.title = change.title;
      if (change.current_leaf_id) stored.current_leaf_id = newestLeafUnder(change.current_leaf_id);
    }
    return detail();
  });
  return { stored, requests, streams, fetchMock };
}

async function send(text: string) {
  const composer = screen.getByLabelText("Message (Enter to send, Shift+Enter for a new line)");
  fireEvent.change(composer, { target: { value: text } });
  fireEvent.keyDown(composer, { key: "Enter" });
}

/** The texts of the messages shown, in order. */
const shownTexts = () => Array.from(document.querySelectorAll(".message")).map((item) => item.querySelector(".plain, .markdown")?.textContent ?? "");

describe("ConversationPage", () => {
  beforeEach(() => {
    setConfigForTests({ apiBaseUrl: "http://backend.test" });
    localStorage.clear();
    localStorage.setItem("haruchat.lang", "en");
    tokens.set("access", "refresh");
  });
  afterEach(() => {
    cleanup();
    vi.unstubAllGlobals();
    document.title = "haruchat";
  });

  /** A backend whose conversation already holds `messages`, showing the branch to `leaf`. */
  function backendWith(messages: Message[], leaf: number, answer = "Hi!", options: { hold?: boolean } = {}) {
    const backend = fakeBackend(answer, options);
    Object.assign(backend.stored, { title: "Tea", messages, current_leaf_id: leaf });
    vi.stubGlobal("fetch", backend.fetchMock);
    return backend;
  }

  // Tea? → Green. | Black. (another answer) → Milk? → Yes.
  const tree = [
    message({ id: 1, role: "user", content: "Tea?" }),
    message({ id: 2, parent_id: 1, role: "assistant", content: "Green.", completion_id: 1 }),
    message({ id: 3, parent_id: 1, role: "assistant", content: "Black.", completion_id: 2 }),
    message({ id: 4, parent_id: 3, role: "user", content: "Milk?" }),
    message({ id: 5, parent_id: 4, role: "assistant", content: "Yes.", completion_id: 3 }),
  ];

  it("shows only the branch from the current leaf, with ‹ n / m › on a message that has versions", async () => {
    backendWith(tree, 5);
    renderChat();
    await waitFor(() => expect(shownTexts()).toEqual(["Tea?", "Black.", "Milk?", "Yes."]));
    const versions = screen.getAllByRole("group", { name: /^Version/ });
    expect(versions).toHaveLength(1);
    expect(versions[0].getAttribute("aria-label")).toBe("Version 2 of 2");
    expect(versions[0].textContent).toContain("2 / 2");
    expect(versions[0].closest(".message")!.textContent).toContain("Black.");
  });

  it("switches to another version through PATCH, by click or arrow key, and shows the branch the server returns", async () => {
    const { requests } = backendWith(tree, 5);
    renderChat();
    await waitFor(() => expect(shownTexts()).toHaveLength(4));
    const previous = screen.getByRole("button", { name: "Previous version" });
    await act(async () => fireEvent.click(previous));
    await waitFor(() => expect(shownTexts()).toEqual(["Tea?", "Green."]));
    expect(requests.filter((r) => r.method === "PATCH").map((r) => r.body)).toEqual([{ current_leaf_id: 2 }]);
    screen.getByRole("group", { name: "Version 1 of 2" });

    const next = screen.getByRole("button", { name: "Next version" });
    expect(screen.getByRole("button", { name: "Previous version" })).toBe(previous); // the same button: the focus stays
    await act(async () => fireEvent.keyDown(next, { key: "ArrowRight" }));
    await waitFor(() => expect(shownTexts()).toEqual(["Tea?", "Black.", "Milk?", "Yes."]));
    expect(requests.filter((r) => r.method === "PATCH").map((r) => r.body)).toEqual([{ current_leaf_id: 2 }, { current_leaf_id: 3 }]);
  });

  it("edits a member's message in place: sent after the same parent, it becomes version 2 / 2", async () => {
    const { requests } = backendWith(tree.slice(0, 2), 2, "Coffee is good.");
    renderChat();
    await waitFor(() => expect(shownTexts()).toEqual(["Tea?", "Green."]));
    fireEvent.click(screen.getByRole("button", { name: "Edit message" }));
    const editor = screen.getByLabelText("Edit your message (Ctrl+Enter to send, Escape to cancel)") as HTMLTextAreaElement;
    expect(editor.value).toBe("Tea?");
    expect(document.activeElement).toBe(editor);
    fireEvent.change(editor, { target: { value: "Coffee?" } });
    await act(async () => fireEvent.keyDown(editor, { key: "Enter", ctrlKey: true }));

    await waitFor(() => expect(shownTexts()).toEqual(["Coffee?", "Coffee is good."]));
    const sent = requests.find((r) => r.method === "POST" && r.path.endsWith("/messages"))!;
    expect(sent.body).toEqual({ content: "Coffee?", parent_id: null, stream: true });
    expect(screen.queryByLabelText("Edit your message (Ctrl+Enter to send, Escape to cancel)")).toBeNull();
    const versions = screen.getByRole("group", { name: "Version 2 of 2" });
    expect(versions.closest(".message")!.classList.contains("user")).toBe(true);

    await act(async () => fireEvent.click(within(versions).getByRole("button", { name: "Previous version" })));
    await waitFor(() => expect(shownTexts()).toEqual(["Tea?", "Green."]));
  });

  it("leaves a message as it was when the edit is cancelled with Escape, and gives the focus back", async () => {
    const { requests } = backendWith(tree.slice(0, 2), 2);
    renderChat();
    await waitFor(() => expect(shownTexts()).toEqual(["Tea?", "Green."]));
    const edit = screen.getByRole("button", { name: "Edit message" });
    fireEvent.click(edit);
    const editor = screen.getByLabelText("Edit your message (Ctrl+Enter to send, Escape to cancel)");
    fireEvent.change(editor, { target: { value: "Something else" } });
    fireEvent.keyDown(editor, { key: "Escape" });
    expect(shownTexts()).toEqual(["Tea?", "Green."]);
    expect(document.activeElement).toBe(screen.getByRole("button", { name: "Edit message" }));
    expect(requests.some((r) => r.method === "POST")).toBe(false);
  });

  it("regenerates an answer through its route: the new one shows as 2 / 2", async () => {
    const { requests } = backendWith(tree.slice(0, 2), 2, "Oolong.");
    renderChat();
    await waitFor(() => expect(shownTexts()).toEqual(["Tea?", "Green."]));
    await act(async () => fireEvent.click(screen.getByRole("button", { name: "Regenerate answer" })));
    await waitFor(() => expect(shownTexts()).toEqual(["Tea?", "Oolong."]));
    expect(requests.find((r) => r.path.endsWith("/regenerate"))).toMatchObject({
      method: "POST",
      path: "/api/conversations/7/messages/2/regenerate",
      body: { stream: true },
    });
    const versions = screen.getByRole("group", { name: "Version 2 of 2" });
    expect(versions.closest(".message")!.textContent).toContain("Oolong.");
  });

  it("follows an answer still being written when the conversation opens, from the text it has", async () => {
    const writing = message({ id: 2, parent_id: 1, role: "assistant", content: "Once upon", status: "generating" });
    const { requests, streams } = backendWith([tree[0], writing], 2, "", { hold: true });
    renderChat();
    await waitFor(() => expect(streams).toHaveLength(1));
    const follow = requests.find((r) => r.path.endsWith("/stream"))!;
    expect(follow).toMatchObject({ method: "GET", path: "/api/conversations/7/messages/2/stream" });
    expect(follow.headers.get("Last-Event-ID")).toBe("9");
    expect(screen.getByTestId("streaming").textContent).toBe("Once upon");
    expect(document.querySelector("ol.messages")!.getAttribute("aria-busy")).toBe("true"); // read out once it is whole
    expect(screen.getByRole("button", { name: "Stop" })).toBeTruthy();
    expect((screen.getByRole("button", { name: "Edit message" }) as HTMLButtonElement).disabled).toBe(true);

    await act(async () => streams[0].send("delta", { content: " a time." }, 17));
    await waitFor(() => expect(screen.getByTestId("streaming").textContent).toBe("Once upon a time."));
    const whole = { ...writing, content: "Once upon a time.", status: "" as const };
    await act(async () => {
      streams[0].send("done", { assistant_message: whole, completion_id: 1, finish_reason: "stop", usage: {}, quota });
      streams[0].end();
    });
    await waitFor(() => expect(screen.queryByTestId("streaming")).toBeNull());
    expect(shownTexts()).toEqual(["Tea?", "Once upon a time."]);
    expect(document.querySelector("ol.messages")!.getAttribute("aria-busy")).toBe("false");
    expect(screen.getByRole("button", { name: "Send" })).toBeTruthy();
  });

  it("stops the answer on its way with the stop route; the answer keeps its text and says it was stopped", async () => {
    const { requests, streams } = backendWith([], 0, "", { hold: true });
    renderChat();
    await screen.findByRole("heading", { name: "Tea" });
    await send("hello");
    await waitFor(() => expect(streams).toHaveLength(1));
    await act(async () => streams[0].send("delta", { content: "Once upon" }, 9));
    expect(await screen.findByText("Once upon")).toBeTruthy();
    await act(async () => fireEvent.click(screen.getByRole("button", { name: "Stop" })));
    await waitFor(() => expect(requests.some((r) => r.path.endsWith("/stop"))).toBe(true));
    expect(requests.find((r) => r.path.endsWith("/stop"))).toMatchObject({ method: "POST", path: "/api/conversations/7/messages/2/stop" });
    expect((screen.getByRole("button", { name: "Stopping…" }) as HTMLButtonElement).disabled).toBe(true);

    const stopped = message({ id: 2, parent_id: 1, role: "assistant", content: "Once upon", status: "stopped", completion_id: 1 });
    await act(async () => {
      streams[0].send("done", { assistant_message: stopped, completion_id: 1, finish_reason: "stop", usage: {}, quota });
      streams[0].end();
    });
    await waitFor(() => expect(screen.getByText("Stopped")).toBeTruthy());
    expect(shownTexts()).toEqual(["hello", "Once upon"]);
    expect(screen.getByRole("button", { name: "Send" })).toBeTruthy();
  });

  it("says which answers were stopped or cut off, in Korean too", async () => {
    localStorage.setItem("haruchat.lang", "ko");
    backendWith(
      [
        message({ id: 1, role: "user", content: "차?" }),
        message({ id: 2, parent_id: 1, role: "assistant", content: "녹차", status: "stopped" }),
        message({ id: 3, parent_id: 2, role: "user", content: "또?" }),
        message({ id: 4, parent_id: 3, role: "assistant", content: "홍", status: "interrupted" }),
      ],
      4,
    );
    renderChat();
    expect(await screen.findByText("멈춤")).toBeTruthy();
    expect(screen.getByText("답변이 도중에 끊겼습니다")).toBeTruthy();
    expect(screen.getAllByRole("button", { name: "답변 다시 생성" })).toHaveLength(2);
    expect(screen.getAllByRole("button", { name: "메시지 수정" })).toHaveLength(2);
  });

  it("shows the conversation's title in its header and the tab, after the first exchange and a rename", async () => {
    vi.stubGlobal("fetch", fakeBackend("Hi!").fetchMock);
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
    vi.stubGlobal("fetch", fakeBackend(answer).fetchMock);
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
