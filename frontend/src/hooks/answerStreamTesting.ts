/** For tests: answers streamed as the server streams them, written by the test event by event. */
import type { Message } from "../api";

const encoder = new TextEncoder();

export function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}

/** One Server-Sent Event as the server writes it (a delta's `id:` is the answer's length after it). */
export function sse(event: string, data: unknown, id?: number): string {
  return `${id === undefined ? "" : `id: ${id}\n`}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** A whole stream, every event already there. */
export function eventStream(...events: string[]): Response {
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      events.forEach((event) => controller.enqueue(encoder.encode(event)));
      controller.close();
    },
  });
  return new Response(body, { status: 200, headers: { "Content-Type": "text/event-stream" } });
}

/** A stream the test writes as it goes; aborting the request errors it as fetch would, and so can `drop`. */
export function scriptedStream(signal?: AbortSignal | null) {
  let writer!: ReadableStreamDefaultController<Uint8Array>;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      writer = controller;
      signal?.addEventListener("abort", () => controller.error(new DOMException("aborted", "AbortError")));
    },
  });
  return {
    response: new Response(body, { status: 200, headers: { "Content-Type": "text/event-stream" } }),
    send: (event: string, data: unknown, id?: number) => writer.enqueue(encoder.encode(sse(event, data, id))),
    /** The server ends the response (with or without a last event). */
    end: () => writer.close(),
    /** The connection breaks, as a network failure does. */
    drop: () => writer.error(new TypeError("network error")),
  };
}

export type ScriptedStream = ReturnType<typeof scriptedStream>;

/** A message as the server sends it. */
export function message(fields: Partial<Message> & Pick<Message, "id" | "role">): Message {
  return { parent_id: null, content: "", created_at: "2026-11-25T10:00:00Z", completion_id: null, status: "", ...fields };
}

/** A fetch call's method, path (without the test's base URL), JSON body and headers. */
export function requestOf(call: unknown[]) {
  const [url, init] = call as [string, RequestInit | undefined];
  return {
    method: init?.method ?? "GET",
    path: new URL(url).pathname,
    body: init?.body ? (JSON.parse(String(init.body)) as Record<string, unknown>) : null,
    headers: new Headers(init?.headers),
  };
}
