import { cleanup, render, screen } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { tokens } from "../api";
import { setConfigForTests } from "../config";
import { I18nProvider } from "../i18n";
import { CallDetails } from "./CallDetails";

function call(charactersReplaced: number, usageCounted = false) {
  return {
    id: 3, status: "succeeded", provider: "openai_compat", latency_ms: 12, characters_replaced: charactersReplaced,
    usage_counted: usageCounted,
    created_at: "", finished_at: "", request_message_id: 1, answer_message_id: 2, error: null,
    request: { model: "m", temperature: 0.7, messages: [] },
    response: { usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 } },
  };
}

function showing(charactersReplaced: number, lang: string, usageCounted = false) {
  localStorage.setItem("haruchat.lang", lang);
  vi.stubGlobal(
    "fetch",
    vi.fn(async () => new Response(JSON.stringify([call(charactersReplaced, usageCounted)]), {
      status: 200, headers: { "Content-Type": "application/json" },
    })),
  );
  render(
    <I18nProvider>
      <CallDetails conversationId={7} completionId={3} onClose={() => {}} />
    </I18nProvider>,
  );
}

describe("CallDetails", () => {
  beforeEach(() => {
    setConfigForTests({ apiBaseUrl: "http://backend.test" });
    localStorage.clear();
    tokens.set("access", "refresh");
  });
  afterEach(() => {
    cleanup();
    vi.unstubAllGlobals();
  });

  it("says how many characters the record had to replace", async () => {
    showing(2, "en");
    expect(await screen.findByText("Characters replaced")).toBeTruthy();
    expect(screen.getByText("2 (NUL characters or halves of an emoji, which can't be stored, recorded as �)")).toBeTruthy();
  });

  it("says it in Korean too", async () => {
    showing(1, "ko");
    expect(await screen.findByText("대체된 문자")).toBeTruthy();
    expect(screen.getByText("1개 (저장할 수 없는 NUL 문자나 이모지의 반쪽을 �로 기록했습니다)")).toBeTruthy();
  });

  it("says nothing about it when nothing was replaced", async () => {
    showing(0, "en");
    expect(await screen.findByText("12 ms")).toBeTruthy();
    expect(screen.queryByText("Characters replaced")).toBeNull();
  });

  it("says when the tokens are haruchat's count, not the model's", async () => {
    showing(0, "en", true);
    expect(await screen.findByText("3 + 4 = 7 (counted by haruchat: the model reported none)")).toBeTruthy();
  });

  it("says it in Korean too, and nothing when the model counted", async () => {
    showing(0, "ko", true);
    expect(await screen.findByText("3 + 4 = 7 (모델이 알려 주지 않아 haruchat이 센 값)")).toBeTruthy();
    cleanup();
    showing(0, "en", false);
    expect(await screen.findByText("3 + 4 = 7")).toBeTruthy();
  });
});
