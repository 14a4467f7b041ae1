import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ApiError, SESSION_EXPIRED, api, followAnswer, regenerateAnswer, sendMessage, stopAnswer, switchBranch, tokens } from "./api";
import { setConfigForTests } from "./config";

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json", ...headers } });
}

describe("api client", () => {
  beforeEach(() => {
    setConfigForTests({ apiBaseUrl: "http://backend.test" });
    localStorage.clear();
  });
  afterEach(() => vi.unstubAllGlobals());

  it("refreshes an expired access token once and retries", async () => {
    tokens.set("old-access", "refresh-1");
    const fetchMock = vi
      .fn()
      .mockResolvedValueOnce(json(401, { detail: "expired", code: "token_not_valid" }))
      .mockResolvedValueOnce(json(200, { access: "new-access", refresh: "refresh-2" }))
      .mockResolvedValueOnce(json(200, { nickname: "haru" }));
    vi.stubGlobal("fetch", fetchMock);
    expect(await api("/api/auth/me")).toEqual({ nickname: "haru" });
    expect(tokens.access).toBe("new-access");
    expect(tokens.refresh).toBe("refresh-2");
    const retried = fetchMock.mock.calls[2];
    expect(new Headers(retried[1].headers).get("Authorization")).toBe("Bearer new-access");
  });

  it("ends the session when the refresh token is refused too", async () => {
    tokens.set("old-access", "refresh-1");
    vi.stubGlobal(
      "fetch",
      vi.fn().mockResolvedValueOnce(json(401, { code: "token_not_valid" })).mockResolvedValueOnce(json(401, {})),
    );
    const expired = vi.fn();
    window.addEventListener(SESSION_EXPIRED, expired);
    await expect(api("/api/auth/me")).rejects.toBeInstanceOf(ApiError);
    expect(expired).toHaveBeenCalledOnce();
    expect(tokens.present()).toBe(false);
  });

  it("reports the quota error with its code and Retry-After", async () => {
    tokens.set("access", "refresh");
    vi.stubGlobal(
      "fetch",
      vi.fn().mockResolvedValue(json(429, { detail: "used up", code: "quota_exceeded" }, { "Retry-After": "120" })),
    );
    const error = await api("/api/quota").catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 429, code: "quota_exceeded", retryAfter: 120 });
  });

  it("says offline when the server can't be reached", async () => {
    vi.stubGlobal("fetch", vi.fn().mockRejectedValue(new TypeError("Failed to fetch")));
    await expect(api("/api/quota")).rejects.toMatchObject({ code: "offline" });
  });
});

describe("branches and resumable answers", () => {
  const events = 'id: 5\nevent: delta\ndata: {"content": "Hello"}\n\nevent: done\ndata: {}\n\n';
  let fetchMock: ReturnType<typeof vi.fn>;
  beforeEach(() => {
    setConfigForTests({ apiBaseUrl: "http://backend.test" });
    tokens.set("access", "refresh");
    fetchMock = vi.fn(async (url: string) =>
      url.endsWith("/stream") || url.endsWith("/messages") || url.endsWith("/regenerate")
        ? new Response(events, { headers: { "Content-Type": "text/event-stream" } })
        : json(200, { id: 7 }),
    );
    vi.stubGlobal("fetch", fetchMock);
  });
  afterEach(() => vi.unstubAllGlobals());

  const drain = async (stream: AsyncIterable<unknown>) => {
    const all = [];
    for await (const event of stream) all.push(event);
    return all;
  };
  const call = (n = 0) => {
    const [url, init] = fetchMock.mock.calls[n] as [string, RequestInit];
    return { url, method: init.method ?? "GET", body: init.body ? JSON.parse(String(init.body)) : null, headers: new Headers(init.headers) };
  };

  it("sends after a chosen parent only when asked (an edit), and yields the events with their ids", async () => {
    expect(await drain(sendMessage(7, "hi"))).toEqual([
      { event: "delta", data: { content: "Hello" }, id: "5" },
      { event: "done", data: {} },
    ]);
    expect(call(0).body).toEqual({ content: "hi", stream: true });
    await drain(sendMessage(7, "hi again", { parentId: null }));
    expect(call(1).body).toEqual({ content: "hi again", parent_id: null, stream: true });
    await drain(sendMessage(7, "and again", { parentId: 4 }));
    expect(call(2).body).toEqual({ content: "and again", parent_id: 4, stream: true });
  });

  it("regenerates, follows, stops and switches through their routes", async () => {
    await drain(regenerateAnswer(7, 2));
    expect(call(0)).toMatchObject({ url: "http://backend.test/api/conversations/7/messages/2/regenerate", method: "POST", body: { stream: true } });

    await drain(followAnswer(7, 2, 12));
    expect(call(1)).toMatchObject({ url: "http://backend.test/api/conversations/7/messages/2/stream", method: "GET" });
    expect(call(1).headers.get("Last-Event-ID")).toBe("12");
    await drain(followAnswer(7, 2, 0));
    expect(call(2).headers.has("Last-Event-ID")).toBe(false); // from the start

    await stopAnswer(7, 2);
    expect(call(3)).toMatchObject({ url: "http://backend.test/api/conversations/7/messages/2/stop", method: "POST" });
    await switchBranch(7, 5);
    expect(call(4)).toMatchObject({ url: "http://backend.test/api/conversations/7", method: "PATCH", body: { current_leaf_id: 5 } });
  });
});
