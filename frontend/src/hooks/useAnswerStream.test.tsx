import { act, renderHook, waitFor } from "@testing-library/react";
import type { ReactNode } from "react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ApiError, tokens, type Message } from "../api";
import { setConfigForTests } from "../config";
import { AppStateProvider, useAppState } from "../state";
import { useAnswerStream } from "./useAnswerStream";

const quota = { limit: 5, used: 0, remaining: 5, resets_at: "2026-11-26T00:00:00+09:00", time_zone: "Asia/Seoul" };
const spent = { limit: 5, used: 1, remaining: 4, resets_at: "2026-11-26T00:00:00+09:00" };
const question: Message = { id: 1, parent_id: null, role: "user", content: "hello", created_at: "", completion_id: null };
const answer: Message = { id: 2, parent_id: 1, role: "assistant", content: "Once upon a time.", created_at: "", completion_id: 1 };

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}

/** A streamed answer the test writes event by event; aborting the request errors it as fetch would. */
function scriptedStream(signal: AbortSignal) {
  const encoder = new TextEncoder();
  let writer!: ReadableStreamDefaultController<Uint8Array>;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      writer = controller;
      signal.addEventListener("abort", () => controller.error(new DOMException("aborted", "AbortError")));
    },
  });
  return {
    response: new Response(body, { status: 200, headers: { "Content-Type": "text/event-stream" } }),
    send: (event: string, data: unknown) => writer.enqueue(encoder.encode(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`)),
    end: () => writer.close(),
  };
}

type Stream = ReturnType<typeof scriptedStream>;

describe("useAnswerStream", () => {
  let opened: Promise<Stream>;
  let messagesResponse: (() => Response) | null;
  let stored: Message[];

  beforeEach(() => {
    setConfigForTests({ apiBaseUrl: "http://backend.test" });
    localStorage.clear();
    tokens.set("access", "refresh");
    messagesResponse = null;
    stored = [];
    let open!: (stream: Stream) => void;
    opened = new Promise((resolve) => (open = resolve));
    vi.stubGlobal(
      "fetch",
      vi.fn(async (url: string, init?: RequestInit) => {
        if (url.endsWith("/api/quota")) return json(quota);
        if (url.endsWith("/messages")) {
          if (messagesResponse) return messagesResponse();
          const stream = scriptedStream(init!.signal!);
          open(stream);
          return stream.response;
        }
        return json({ id: 7, messages: stored });
      }),
    );
  });
  afterEach(() => vi.unstubAllGlobals());

  /** The hook inside the app's shared state, once that state has loaded the allowance. */
  async function setup(onSent = vi.fn()) {
    const wrapper = ({ children }: { children: ReactNode }) => <AppStateProvider>{children}</AppStateProvider>;
    const hook = renderHook(() => ({ answer: useAnswerStream(7, { onSent }), app: useAppState() }), { wrapper });
    await waitFor(() => expect(hook.result.current.app.quota).not.toBeNull());
    return { hook, onSent, current: () => hook.result.current.answer };
  }

  it("shows the member's message, grows the answer from deltas, then shows the stored answer", async () => {
    const { hook, onSent, current } = await setup();
    let asked!: Promise<void>;
    act(() => {
      asked = current().ask("hello");
    });
    expect(current().streaming).toBe("");
    const stream = await opened;
    await act(async () => stream.send("start", { user_message: question, completion_id: 1, quota: spent }));
    await waitFor(() => expect(current().messages).toEqual([question]));
    expect(onSent).toHaveBeenCalledWith(question);
    expect(hook.result.current.app.quota).toMatchObject({ remaining: 4, time_zone: "Asia/Seoul" });

    await act(async () => stream.send("delta", { content: "Once upon" }));
    await waitFor(() => expect(current().streaming).toBe("Once upon"));
    await act(async () => stream.send("delta", { content: " a time." }));
    await waitFor(() => expect(current().streaming).toBe("Once upon a time."));

    await act(async () => {
      stream.send("done", { assistant_message: answer, completion_id: 1, finish_reason: "stop", usage: {}, quota: spent });
      stream.end();
      await asked;
    });
    expect(current().streaming).toBeNull();
    expect(current().messages).toEqual([question, answer]);
    expect(current().error).toBeNull();
  });

  it("keeps the member's message and the partial answer when the model fails, and says why", async () => {
    const { current } = await setup();
    const partial: Message = { ...answer, content: "Once" };
    await act(async () => {
      const asked = current().ask("hello");
      const stream = await opened;
      stream.send("start", { user_message: question, completion_id: 1, quota: spent });
      stream.send("delta", { content: "Once" });
      stream.send("error", { detail: "The model stopped.", code: "upstream_error", status: 502, partial_message: partial });
      stream.end();
      await asked;
    });
    expect(current().messages).toEqual([question, partial]);
    expect(current().streaming).toBeNull();
    expect(current().error).toBeInstanceOf(ApiError);
    expect(current().error).toMatchObject({ status: 502, code: "upstream_error", message: "The model stopped." });
  });

  it("stores nothing and says why when the request is refused", async () => {
    messagesResponse = () => json({ detail: "used up", code: "quota_exceeded" }, 429);
    const { onSent, current } = await setup();
    await act(() => current().ask("hello"));
    expect(current().messages).toEqual([]);
    expect(current().error).toMatchObject({ status: 429, code: "quota_exceeded" });
    expect(onSent).not.toHaveBeenCalled();
  });

  it("asking for the answer to the last message adds no message of its own", async () => {
    const { onSent, current } = await setup();
    act(() => current().setMessages([question]));
    await act(async () => {
      const asked = current().ask(null);
      const stream = await opened;
      stream.send("start", { user_message: question, completion_id: 1, quota: spent });
      stream.send("done", { assistant_message: answer, completion_id: 1, finish_reason: "stop", usage: {}, quota: spent });
      stream.end();
      await asked;
    });
    expect(current().messages).toEqual([question, answer]);
    expect(onSent).not.toHaveBeenCalled();
  });

  it("stops on request and shows what the server kept", async () => {
    const { current } = await setup();
    let asked!: Promise<void>;
    act(() => {
      asked = current().ask("hello");
    });
    const stream = await opened;
    await act(async () => {
      stream.send("start", { user_message: question, completion_id: 1, quota: spent });
      stream.send("delta", { content: "Once" });
    });
    await waitFor(() => expect(current().streaming).toBe("Once"));
    stored = [question, { ...answer, content: "Once" }];
    await act(async () => {
      current().stop();
      await asked;
    });
    expect(current().stopped).toBe(true);
    expect(current().streaming).toBeNull();
    expect(current().error).toBeNull();
    await waitFor(() => expect(current().messages).toEqual(stored));
  });

  it("abandons an answer still on its way when another conversation is shown", async () => {
    const wrapper = ({ children }: { children: ReactNode }) => <AppStateProvider>{children}</AppStateProvider>;
    const hook = renderHook(({ id }) => useAnswerStream(id), { wrapper, initialProps: { id: 7 } });
    let asked!: Promise<void>;
    act(() => {
      asked = hook.result.current.ask("hello");
    });
    const stream = await opened;
    await act(async () => stream.send("start", { user_message: question, completion_id: 1, quota: spent }));
    await waitFor(() => expect(hook.result.current.messages).toEqual([question]));
    act(() => hook.rerender({ id: 8 }));
    await act(() => asked);
    expect(hook.result.current).toMatchObject({ messages: [], streaming: null, error: null, stopped: false });
  });
});
