import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ApiError, SESSION_EXPIRED, api, tokens } from "./api";
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
