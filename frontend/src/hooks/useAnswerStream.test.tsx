import { act, cleanup, renderHook, waitFor } from "@testing-library/react";
import type { ReactNode } from "react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ApiError, tokens, type Conversation, type Message } from "../api";
import { setConfigForTests } from "../config";
import { AppStateProvider, useAppState } from "../state";
import { json, message, requestOf, scriptedStream, type ScriptedStream } from "./answerStreamTesting";
import { versionsOf } from "./messageTree";
import { useAnswerStream } from "./useAnswerStream";

const quota = { limit: 5, used: 0, remaining: 5, resets_at: "2026-11-26T00:00:00+09:00", time_zone: "Asia/Seoul" };
const spent = { limit: 5, used: 1, remaining: 4, resets_at: "2026-11-26T00:00:00+09:00" };
const question = message({ id: 1, role: "user", content: "hello" });
const answer = message({ id: 2, parent_id: 1, role: "assistant", content: "Once upon a time.", completion_id: 1 });
/** How an answer is stored when it starts, and while it is written. */
const writing = (stored: Message, content = ""): Message => ({ ...stored, content, status: "generating" });
const done = (stored: Message) => ({ assistant_message: stored, completion_id: 1, finish_reason: "stop", usage: {}, quota: spent });

type Request = ReturnType<typeof requestOf>;

describe("useAnswerStream", () => {
  let streams: { request: Request; stream: ScriptedStream }[];
  let refuse: Response | null;
  let requests: Request[];
  let patched: Pick<Conversation, "messages" | "current_leaf_id">;
  let stored: Pick<Conversation, "messages" | "current_leaf_id">;

  beforeEach(() => {
    setConfigForTests({ apiBaseUrl: "http://backend.test" });
    localStorage.clear();
    tokens.set("access", "refresh");
    streams = [];
    requests = [];
    refuse = null;
    patched = { messages: [], current_leaf_id: null };
    stored = { messages: [], current_leaf_id: null };
    vi.stubGlobal(
      "fetch",
      vi.fn(async (url: string, init?: RequestInit) => {
        const request = requestOf([url, init]);
        requests.push(request);
        if (request.path === "/api/quota") return json(quota);
        if (request.path.endsWith("/stop")) return json({ ...answer, status: "stopping" }, 202);
        if (/\/messages(\/\d+\/(regenerate|stream))?$/.test(request.path)) {
          if (refuse) return refuse;
          const stream = scriptedStream(init?.signal);
          streams.push({ request, stream });
          return stream.response;
        }
        if (request.method === "PATCH") return json({ id: 7, ...patched });
        return json({ id: 7, ...stored });
      }),
    );
  });
  afterEach(() => {
    cleanup();
    vi.unstubAllGlobals();
  });

  /** The hook inside the app's shared state, once that state has loaded the allowance. */
  async function setup(onSent = vi.fn()) {
    const wrapper = ({ children }: { children: ReactNode }) => <AppStateProvider>{children}</AppStateProvider>;
    const hook = renderHook(() => ({ answer: useAnswerStream(7, { onSent }), app: useAppState() }), { wrapper });
    await waitFor(() => expect(hook.result.current.app.quota).not.toBeNull());
    return { hook, onSent, current: () => hook.result.current.answer };
  }

  /** The n-th stream the hook opened (from 0), once it has. */
  async function opened(n: number) {
    await waitFor(() => expect(streams.length).toBeGreaterThan(n));
    return streams[n];
  }

  const ids = (messages: Message[]) => messages.map((shown) => shown.id);

  it("shows the member's message and the stored answer at once, grows it from deltas, then shows it stored", async () => {
    const { hook, onSent, current } = await setup();
    let asked!: Promise<void>;
    act(() => {
      asked = current().ask("hello");
    });
    expect(current().live).toEqual({ answerId: null, text: "", stopping: false });
    const { request, stream } = await opened(0);
    expect(request).toMatchObject({ method: "POST", path: "/api/conversations/7/messages", body: { content: "hello", stream: true } });
    expect(request.body).not.toHaveProperty("parent_id"); // after the current leaf

    await act(async () => stream.send("start", { user_message: question, assistant_message: writing(answer), completion_id: 1, quota: spent }));
    await waitFor(() => expect(ids(current().branch)).toEqual([1, 2]));
    expect(current().live).toEqual({ answerId: 2, text: "", stopping: false });
    expect(onSent).toHaveBeenCalledWith(question);
    expect(hook.result.current.app.quota).toMatchObject({ remaining: 4, time_zone: "Asia/Seoul" });

    await act(async () => stream.send("delta", { content: "Once upon" }, 9));
    await waitFor(() => expect(current().live?.text).toBe("Once upon"));
    await act(async () => stream.send("delta", { content: " a time." }, 17));
    await waitFor(() => expect(current().live?.text).toBe("Once upon a time."));

    await act(async () => {
      stream.send("done", done(answer));
      stream.end();
      await asked;
    });
    expect(current().live).toBeNull();
    expect(current().branch).toEqual([question, answer]);
    expect(current().error).toBeNull();
  });

  it("frees the composer at `done`, and reloads the list when the title the server gives next comes", async () => {
    const { hook, current } = await setup();
    act(() => void current().ask("hello"));
    const { stream } = await opened(0);
    await act(async () => {
      stream.send("start", { user_message: question, assistant_message: writing(answer), completion_id: 1, quota: spent });
      stream.send("done", done(answer));
    });
    await waitFor(() => expect(current().live).toBeNull());
    const before = hook.result.current.app.listVersion;
    await act(async () => stream.send("title", { title: "A story" }));
    await waitFor(() => expect(hook.result.current.app.listVersion).toBeGreaterThan(before));
    await act(async () => stream.end());
    expect(streams).toHaveLength(1); // ended: nothing to follow
    expect(current().error).toBeNull();
  });

  it("keeps the member's message and the partial answer when the model fails, and says why", async () => {
    const { current } = await setup();
    const partial: Message = { ...answer, content: "Once", status: "interrupted" };
    await act(async () => {
      const asked = current().ask("hello");
      const { stream } = await opened(0);
      stream.send("start", { user_message: question, assistant_message: writing(answer), completion_id: 1, quota: spent });
      stream.send("delta", { content: "Once" }, 4);
      stream.send("error", { detail: "The model stopped.", code: "upstream_error", status: 502, partial_message: partial });
      stream.end();
      await asked;
    });
    expect(current().branch).toEqual([question, partial]);
    expect(current().live).toBeNull();
    expect(current().error).toBeInstanceOf(ApiError);
    expect(current().error).toMatchObject({ status: 502, code: "upstream_error", message: "The model stopped." });
  });

  it("drops the empty answer when the model fails before any text: the branch ends with the member's message", async () => {
    const { current } = await setup();
    await act(async () => {
      const asked = current().ask("hello");
      const { stream } = await opened(0);
      stream.send("start", { user_message: question, assistant_message: writing(answer), completion_id: 1, quota: spent });
      stream.send("error", { detail: "No model.", code: "upstream_unavailable", status: 503 });
      stream.end();
      await asked;
    });
    expect(current().branch).toEqual([question]);
    expect(current().tree.messages).toEqual([question]);
    expect(current().error).toMatchObject({ code: "upstream_unavailable" });
  });

  it("stores nothing and says why when the request is refused", async () => {
    refuse = json({ detail: "used up", code: "quota_exceeded" }, 429);
    const { onSent, current } = await setup();
    await act(() => current().ask("hello"));
    expect(current().tree.messages).toEqual([]);
    expect(current().error).toMatchObject({ status: 429, code: "quota_exceeded" });
    expect(onSent).not.toHaveBeenCalled();
  });

  it("asking for the answer to the last message adds no message of its own", async () => {
    const { onSent, current } = await setup();
    act(() => current().load({ messages: [question], current_leaf_id: 1 }));
    await act(async () => {
      const asked = current().ask(null);
      const { request, stream } = await opened(0);
      expect(request.body).toEqual({ stream: true });
      stream.send("start", { user_message: question, assistant_message: writing(answer), completion_id: 1, quota: spent });
      stream.send("done", done(answer));
      stream.end();
      await asked;
    });
    expect(current().tree.messages).toEqual([question, answer]);
    expect(onSent).not.toHaveBeenCalled();
  });

  describe("the message tree", () => {
    const followUp = message({ id: 3, parent_id: 2, role: "user", content: "And then?" });
    const followUpAnswer = message({ id: 4, parent_id: 3, role: "assistant", content: "The end.", completion_id: 2 });
    const otherAnswer = message({ id: 5, parent_id: 1, role: "assistant", content: "Long ago.", completion_id: 3 });

    it("shows the branch from the current leaf up through the parents, not every message", async () => {
      const { current } = await setup();
      act(() => current().load({ messages: [question, answer, followUp, followUpAnswer, otherAnswer], current_leaf_id: 5 }));
      expect(ids(current().branch)).toEqual([1, 5]);
      expect(ids(versionsOf(current().tree, otherAnswer))).toEqual([2, 5]);
      act(() => current().load({ messages: [question, answer, followUp, followUpAnswer, otherAnswer], current_leaf_id: 4 }));
      expect(ids(current().branch)).toEqual([1, 2, 3, 4]);
    });

    it("sends an edit after the edited message's parent, as its new sibling, and shows the new branch", async () => {
      const onEdited = vi.fn();
      const { onSent, current } = await setup();
      act(() => current().load({ messages: [question, answer, followUp, followUpAnswer], current_leaf_id: 4 }));
      const edited = message({ id: 6, parent_id: 2, role: "user", content: "What happened next?" });
      const editedAnswer = message({ id: 7, parent_id: 6, role: "assistant", content: "A dragon.", completion_id: 4 });
      await act(async () => {
        const sent = current().edit(followUp, "What happened next?", onEdited);
        const { request, stream } = await opened(0);
        expect(request).toMatchObject({
          method: "POST",
          path: "/api/conversations/7/messages",
          body: { content: "What happened next?", parent_id: 2, stream: true },
        });
        stream.send("start", { user_message: edited, assistant_message: writing(editedAnswer), completion_id: 4, quota: spent });
        stream.send("done", done(editedAnswer));
        stream.end();
        await sent;
      });
      expect(ids(current().branch)).toEqual([1, 2, 6, 7]);
      expect(ids(versionsOf(current().tree, edited))).toEqual([3, 6]); // the old version stays
      expect(onEdited).toHaveBeenCalled();
      expect(onSent).not.toHaveBeenCalled(); // the composer's draft is not the edit's
    });

    it("edits a first message with parent_id null", async () => {
      const { current } = await setup();
      act(() => current().load({ messages: [question, answer], current_leaf_id: 2 }));
      act(() => void current().edit(question, "hi"));
      const { request } = await opened(0);
      expect(request.body).toEqual({ content: "hi", parent_id: null, stream: true });
    });

    it("regenerates an answer through its route, and shows the new one as the last version", async () => {
      const { current } = await setup();
      act(() => current().load({ messages: [question, answer], current_leaf_id: 2 }));
      await act(async () => {
        const regenerated = current().regenerate(answer);
        const { request, stream } = await opened(0);
        expect(request).toMatchObject({ method: "POST", path: "/api/conversations/7/messages/2/regenerate", body: { stream: true } });
        stream.send("start", { user_message: question, assistant_message: writing(otherAnswer), completion_id: 3, quota: spent });
        stream.send("delta", { content: "Long ago." }, 9);
        stream.send("done", done(otherAnswer));
        stream.end();
        await regenerated;
      });
      expect(ids(current().branch)).toEqual([1, 5]);
      expect(ids(versionsOf(current().tree, otherAnswer))).toEqual([2, 5]);
    });

    it("switches to another version through PATCH current_leaf_id, showing it at once and then as the server says", async () => {
      const { current } = await setup();
      const all = [question, answer, followUp, followUpAnswer, otherAnswer];
      act(() => current().load({ messages: all, current_leaf_id: 5 }));
      patched = { messages: all, current_leaf_id: 4 };
      let switched!: Promise<void>;
      act(() => {
        switched = current().switchTo(2);
      });
      expect(ids(current().branch)).toEqual([1, 2, 3, 4]); // down by the newest children, as the server walks
      await act(() => switched);
      const patch = requests.find((request) => request.method === "PATCH")!;
      expect(patch).toMatchObject({ path: "/api/conversations/7", body: { current_leaf_id: 2 } });
      expect(ids(current().branch)).toEqual([1, 2, 3, 4]);
    });
  });

  describe("an answer the server is still writing", () => {
    it("follows it from the text already stored, sending its length as Last-Event-ID, and never repeats text", async () => {
      const { current } = await setup();
      act(() => current().load({ messages: [question, writing(answer, "Once upon")], current_leaf_id: 2 }));
      expect(current().live).toEqual({ answerId: 2, text: "Once upon", stopping: false });
      const { request, stream } = await opened(0);
      expect(request).toMatchObject({ method: "GET", path: "/api/conversations/7/messages/2/stream" });
      expect(request.headers.get("Last-Event-ID")).toBe("9");

      // A piece the page already has (its id says where it ends) adds only what is new.
      await act(async () => stream.send("delta", { content: "upon a" }, 11));
      await waitFor(() => expect(current().live?.text).toBe("Once upon a"));
      await act(async () => stream.send("delta", { content: "upon a" }, 11));
      await act(async () => stream.send("delta", { content: " time." }, 17));
      await waitFor(() => expect(current().live?.text).toBe("Once upon a time."));
      await act(async () => {
        stream.send("done", done(answer));
        stream.end();
      });
      await waitFor(() => expect(current().live).toBeNull());
      expect(current().branch).toEqual([question, answer]);
    });

    it("counts characters as the server does (an emoji is one)", async () => {
      const { current } = await setup();
      act(() => current().load({ messages: [question, writing(answer, "Tea 🍵")], current_leaf_id: 2 }));
      const { request } = await opened(0);
      expect(request.headers.get("Last-Event-ID")).toBe("5");
    });

    it("reconnects a dropped connection from the last id received, without repeating text", async () => {
      const { current } = await setup();
      act(() => current().load({ messages: [question, writing(answer, "Once")], current_leaf_id: 2 }));
      const first = await opened(0);
      expect(first.request.headers.get("Last-Event-ID")).toBe("4");
      await act(async () => first.stream.send("delta", { content: " upon" }, 9));
      await waitFor(() => expect(current().live?.text).toBe("Once upon"));
      await act(async () => first.stream.drop());

      const second = await opened(1);
      expect(second.request).toMatchObject({ method: "GET", path: "/api/conversations/7/messages/2/stream" });
      expect(second.request.headers.get("Last-Event-ID")).toBe("9");
      await act(async () => {
        second.stream.send("delta", { content: " a time." }, 17);
        second.stream.send("done", done(answer));
        second.stream.end();
      });
      await waitFor(() => expect(current().live).toBeNull());
      expect(current().branch.at(-1)!.content).toBe("Once upon a time.");
      expect(current().error).toBeNull();
    });

    it("picks a sent answer up again when its own request's connection drops", async () => {
      const { current } = await setup();
      act(() => void current().ask("hello"));
      const first = await opened(0);
      await act(async () => {
        first.stream.send("start", { user_message: question, assistant_message: writing(answer), completion_id: 1, quota: spent });
        first.stream.send("delta", { content: "Once" }, 4);
        first.stream.end(); // ended before `done`
      });
      const second = await opened(1);
      expect(second.request).toMatchObject({ method: "GET", path: "/api/conversations/7/messages/2/stream" });
      expect(second.request.headers.get("Last-Event-ID")).toBe("4");
    });

    it("asks the server what it has when a stream is cut before `start`, and follows the answer it began", async () => {
      const { current } = await setup();
      act(() => void current().ask("hello"));
      const first = await opened(0);
      stored = { messages: [question, writing(answer, "Once")], current_leaf_id: 2 };
      await act(async () => first.stream.end()); // not a single event
      const second = await opened(1);
      expect(second.request).toMatchObject({ method: "GET", path: "/api/conversations/7/messages/2/stream" });
      expect(second.request.headers.get("Last-Event-ID")).toBe("4");
      expect(current().branch).toEqual([question, writing(answer, "Once")]);
      expect(current().error).toBeNull();
    });
  });

  describe("stop", () => {
    it("asks the server to stop the answer, which then ends with the text so far, marked stopped", async () => {
      const { current } = await setup();
      let asked!: Promise<void>;
      act(() => {
        asked = current().ask("hello");
      });
      const { stream } = await opened(0);
      await act(async () => {
        stream.send("start", { user_message: question, assistant_message: writing(answer), completion_id: 1, quota: spent });
        stream.send("delta", { content: "Once" }, 4);
      });
      await waitFor(() => expect(current().live?.text).toBe("Once"));
      act(() => current().stop());
      expect(current().live?.stopping).toBe(true);
      await waitFor(() => expect(requests.some((request) => request.path.endsWith("/stop"))).toBe(true));
      expect(requests.find((request) => request.path.endsWith("/stop"))).toMatchObject({
        method: "POST",
        path: "/api/conversations/7/messages/2/stop",
      });
      const stoppedAnswer: Message = { ...answer, content: "Once", status: "stopped" };
      await act(async () => {
        stream.send("done", done(stoppedAnswer));
        stream.end();
        await asked;
      });
      expect(current().live).toBeNull();
      expect(current().branch).toEqual([question, stoppedAnswer]);
      expect(current().error).toBeNull();
    });

    it("sends a stop asked for before the answer was stored as soon as it is; no text: the answer goes", async () => {
      const { current } = await setup();
      let asked!: Promise<void>;
      act(() => {
        asked = current().ask("hello");
      });
      const { stream } = await opened(0);
      act(() => current().stop());
      expect(requests.some((request) => request.path.endsWith("/stop"))).toBe(false);
      await act(async () =>
        stream.send("start", { user_message: question, assistant_message: writing(answer), completion_id: 1, quota: spent }),
      );
      await waitFor(() => expect(requests.some((request) => request.path === "/api/conversations/7/messages/2/stop")).toBe(true));
      await act(async () => {
        stream.send("error", { detail: "Stopped.", code: "stopped", status: 499 });
        stream.end();
        await asked;
      });
      expect(current().stopped).toBe(true);
      expect(current().error).toBeNull();
      expect(current().branch).toEqual([question]);
    });
  });

  it("lets go of an answer still on its way when another conversation is shown", async () => {
    const wrapper = ({ children }: { children: ReactNode }) => <AppStateProvider>{children}</AppStateProvider>;
    const hook = renderHook(({ id }) => useAnswerStream(id), { wrapper, initialProps: { id: 7 } });
    let asked!: Promise<void>;
    act(() => {
      asked = hook.result.current.ask("hello");
    });
    const { stream } = await opened(0);
    await act(async () => stream.send("start", { user_message: question, assistant_message: writing(answer), completion_id: 1, quota: spent }));
    await waitFor(() => expect(hook.result.current.branch).toHaveLength(2));
    act(() => hook.rerender({ id: 8 }));
    await act(() => asked);
    expect(hook.result.current).toMatchObject({ branch: [], live: null, error: null, stopped: false });
    expect(streams).toHaveLength(1); // not reconnected: the page closed it
  });
});
