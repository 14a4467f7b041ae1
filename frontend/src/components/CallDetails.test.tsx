import { cleanup, render, screen, within } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { tokens } from "../api";
import { setConfigForTests } from "../config";
import { I18nProvider } from "../i18n";
import { CallDetails } from "./CallDetails";

function call(charactersReplaced: number, usageCounted = false, body: { request?: object; response?: object } = {}) {
  return {
    id: 3, status: "succeeded", provider: "openai_compat", latency_ms: 12, characters_replaced: charactersReplaced,
    usage_counted: usageCounted,
    created_at: "", finished_at: "", request_message_id: 1, answer_message_id: 2, error: null,
    request: { model: "m", temperature: 0.7, messages: [] },
    response: { usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 } },
    ...body,
  };
}

function showing(charactersReplaced: number, lang: string, usageCounted = false, body: { request?: object; response?: object } = {}) {
  localStorage.setItem("haruchat.lang", lang);
  vi.stubGlobal(
    "fetch",
    vi.fn(async () => new Response(JSON.stringify([call(charactersReplaced, usageCounted, body)]), {
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
    // jsdom has no showModal: open the dialog as a browser would, so what it holds is in the accessibility tree.
    HTMLDialogElement.prototype.showModal = function (this: HTMLDialogElement) {
      this.open = true;
    };
    setConfigForTests({ apiBaseUrl: "http://backend.test" });
    localStorage.clear();
    tokens.set("access", "refresh");
  });
  afterEach(() => {
    delete (HTMLDialogElement.prototype as Partial<HTMLDialogElement>).showModal;
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

  describe("a /v1 call", () => {
    const weather = {
      type: "function",
      function: {
        name: "weather",
        description: "Today's weather in a city.",
        parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
      },
    };
    const toolCall = (id: string, city: string) => ({
      id, type: "function", function: { name: "weather", arguments: JSON.stringify({ city }) },
    });
    const tokens = (text: string) => text.split(" ").map((token) => ({ token, logprob: -0.1, top_logprobs: [{}, {}] }));

    it("labels each of several choices with its finish reason, text, tool calls and logprobs", async () => {
      showing(0, "en", false, {
        request: { model: "m", messages: [{ role: "user", content: "hi" }], n: 2, logprobs: true },
        response: {
          choices: [
            { index: 0, finish_reason: "stop", message: { role: "assistant", content: "Hello there" }, logprobs: { content: tokens("Hello there") } },
            { index: 1, finish_reason: "tool_calls", message: { role: "assistant", content: null, tool_calls: [toolCall("call_b", "Busan")] }, logprobs: { content: [] } },
          ],
        },
      });
      expect(await screen.findByRole("heading", { name: "Answers (2 choices)" })).toBeTruthy();
      const first = screen.getByRole("article", { name: "Choice 1 of 2" });
      expect(within(first).getByText("finish reason: stop")).toBeTruthy();
      expect(within(first).getByText("Hello there")).toBeTruthy();
      expect(within(first).getByText("Log probabilities for 2 tokens, with up to 2 alternatives each")).toBeTruthy();
      const second = screen.getByRole("article", { name: "Choice 2 of 2" });
      expect(within(second).getByText("finish reason: tool_calls")).toBeTruthy();
      const calls = within(second).getByRole("list", { name: "Tool calls" });
      expect(within(calls).getByText("weather")).toBeTruthy();
      expect(within(calls).getByText("call_b", { exact: false })).toBeTruthy();
      expect(within(calls).getByText((_, node) => node?.tagName === "PRE" && node.textContent === '{\n  "city": "Busan"\n}')).toBeTruthy();
      expect(within(second).getByText("Log probabilities asked for: none for this answer")).toBeTruthy();
    });

    it("says it in Korean too", async () => {
      showing(0, "ko", false, {
        request: { model: "m", messages: [{ role: "user", content: "hi" }], n: 2 },
        response: {
          choices: [
            { index: 0, finish_reason: "stop", message: { role: "assistant", content: "a" } },
            { index: 1, finish_reason: "length", message: { role: "assistant", content: "b" } },
          ],
        },
      });
      expect(await screen.findByRole("heading", { name: "답변 (선택지 2개)" })).toBeTruthy();
      expect(within(screen.getByRole("article", { name: "선택지 2 / 2" })).getByText("종료 이유: length")).toBeTruthy();
    });

    it("shows a single answer's tool calls, arguments pretty-printed", async () => {
      showing(0, "en", false, {
        request: { model: "m", messages: [{ role: "user", content: "weather?" }], tools: [weather] },
        response: {
          choices: [{ index: 0, finish_reason: "tool_calls", message: { role: "assistant", content: null, tool_calls: [toolCall("call_a", "Seoul")] } }],
        },
      });
      const answer = await screen.findByRole("article", { name: "Answer" });
      expect(within(answer).getByText("finish reason: tool_calls")).toBeTruthy();
      expect(within(answer).queryByText("Choice 1 of 1", { exact: false })).toBeNull();
      expect(within(answer).getByText((_, node) => node?.tagName === "PRE" && node.textContent === '{\n  "city": "Seoul"\n}')).toBeTruthy();
      expect(screen.getByTestId("response-json").textContent).toContain('"tool_calls"');  // the raw JSON stays
    });

    it("shows the tools offered, their parameters folded, and tool calls and tool results among the messages", async () => {
      showing(0, "en", false, {
        request: {
          model: "m",
          tools: [weather],
          messages: [
            { role: "user", content: "weather in Seoul?" },
            { role: "assistant", content: null, tool_calls: [toolCall("call_1", "Seoul")] },
            { role: "tool", tool_call_id: "call_1", content: "sunny, 21°C" },
          ],
        },
        response: { choices: [{ index: 0, finish_reason: "stop", message: { role: "assistant", content: "It's sunny." } }] },
      });
      const tools = await screen.findByRole("region", { name: "Tools offered (1)" });
      expect(within(tools).getByText("weather")).toBeTruthy();
      expect(within(tools).getByText("Today's weather in a city.")).toBeTruthy();
      const parameters = within(tools).getByText("Parameters of weather");
      expect(parameters.closest("details")?.open).toBe(false);
      expect(parameters.closest("details")?.querySelector("pre")?.textContent).toContain('"required": [\n    "city"\n  ]');

      const messages = screen.getByRole("region", { name: "Messages sent (3)" });
      const [user, assistant, tool] = within(messages).getAllByRole("listitem").filter((item) => item.parentElement?.tagName === "OL");
      expect(within(user).getByText("user")).toBeTruthy();
      expect(within(assistant).getByText('weather({"city":"Seoul"})')).toBeTruthy();
      expect(within(tool).getByText("tool")).toBeTruthy();
      expect(within(tool).getByText("result of call_1")).toBeTruthy();
      expect(within(tool).getByText("sunny, 21°C")).toBeTruthy();
    });

    it("joins a message's text parts and shows an image part as [image] with its URL cut short", async () => {
      const url = `data:image/png;base64,${"A".repeat(5000)}END`;
      showing(0, "en", false, {
        request: {
          model: "m",
          messages: [
            {
              role: "user",
              content: [
                { type: "text", text: "what is this?" },
                { type: "text", text: "and this?" },
                { type: "image_url", image_url: { url, detail: "low" } },
              ],
            },
          ],
        },
      });
      const messages = await screen.findByRole("region", { name: "Messages sent (1)" });
      expect(within(messages).getByText((_, node) => node?.className === "call-text" && node.textContent === "what is this?\nand this?")).toBeTruthy();
      const image = within(messages).getByText("[image]", { exact: false });
      expect(image.textContent).toMatch(/^\[image\] data:image\/png;base64,A+…A+END$/);
      expect(image.textContent!.length).toBeLessThan(80);
    });
  });
});
