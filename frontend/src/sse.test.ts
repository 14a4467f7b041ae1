import { describe, expect, it } from "vitest";
import { parseBlock, readEvents } from "./sse";

function streamOf(...pieces: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const piece of pieces) controller.enqueue(encoder.encode(piece));
      controller.close();
    },
  });
}

describe("readEvents", () => {
  it("yields events even when they are split across chunks", async () => {
    const body = streamOf('event: start\ndata: {"a"', ': 1}\n\nevent: delta\ndata: {"content": "Hel"}\n', '\nevent: done\ndata: {}\n\n');
    const events = [];
    for await (const event of readEvents(body)) events.push(event);
    expect(events).toEqual([
      { event: "start", data: { a: 1 } },
      { event: "delta", data: { content: "Hel" } },
      { event: "done", data: {} },
    ]);
  });

  it("understands CRLF line ends and comments", async () => {
    const events = [];
    for await (const event of readEvents(streamOf(": ping\r\n\r\ndata: [DONE]\r\n\r\n"))) events.push(event);
    expect(events).toEqual([{ event: "message", data: "[DONE]" }]);
  });
});

describe("parseBlock", () => {
  it("joins multi-line data", () => {
    expect(parseBlock("event: x\ndata: line one\ndata: line two")).toEqual({ event: "x", data: "line one\nline two" });
  });

  it("ignores blocks without data", () => {
    expect(parseBlock("event: nothing")).toBeNull();
  });
});

describe("event ids", () => {
  it("keeps an event's id (what Last-Event-ID resumes from)", async () => {
    const events = [];
    for await (const event of readEvents(streamOf('id: 5\nevent: delta\ndata: {"content": "Hello"}\n\n', 'event: done\ndata: {}\n\n'))) {
      events.push(event);
    }
    expect(events).toEqual([
      { event: "delta", data: { content: "Hello" }, id: "5" },
      { event: "done", data: {} },
    ]);
  });
});
