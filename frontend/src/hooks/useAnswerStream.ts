/**
 * A conversation's messages and the answer streaming into them: `start`
 * stores the member's message, `delta`s grow the streaming text, `done`
 * replaces it with the stored answer, `error` keeps what was stored and
 * surfaces the error. Also keeps the shared allowance and list fresh.
 */
import { useCallback, useEffect, useRef, useState, type Dispatch, type SetStateAction } from "react";
import * as api from "../api";
import { useAppState } from "../state";

export interface AnswerStreamOptions {
  /** Called when the server has stored the member's new message (not for `ask(null)`): e.g. clear the draft. */
  onSent?: (message: api.Message) => void;
}

export interface AnswerStream {
  /** The conversation's stored messages; the page fills them when it loads the conversation. */
  messages: api.Message[];
  setMessages: Dispatch<SetStateAction<api.Message[]>>;
  /** The answer so far: "" before the first delta, null when no answer is on its way. */
  streaming: string | null;
  /** Why the last answer failed (an ApiError, or whatever the request threw); null after a new ask. */
  error: unknown;
  /** True after the member stopped an answer, until the next ask. */
  stopped: boolean;
  /** Send `content` (or, with null, ask for the answer to the last unanswered message) and stream the answer. */
  ask: (content: string | null) => Promise<void>;
  /** Stop the answer on its way; the server keeps what was produced, which is then reloaded. */
  stop: () => void;
}

export function useAnswerStream(conversationId: number, options: AnswerStreamOptions = {}): AnswerStream {
  const { setQuota, reloadList, reloadQuota } = useAppState();
  const [messages, setMessages] = useState<api.Message[]>([]);
  const [streaming, setStreaming] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [stopped, setStopped] = useState(false);
  const inFlight = useRef<AbortController | null>(null);
  const shownId = useRef(conversationId);
  const onSent = useRef(options.onSent);
  useEffect(() => {
    onSent.current = options.onSent; // the latest callback, without restarting anything when it changes
  });

  // Another conversation starts empty; an answer still on its way to the old one is abandoned
  // (dropped from inFlight first, so it can't write into the new conversation).
  useEffect(() => {
    shownId.current = conversationId;
    setMessages([]);
    setStreaming(null);
    setError(null);
    setStopped(false);
    return () => {
      const controller = inFlight.current;
      inFlight.current = null;
      controller?.abort();
    };
  }, [conversationId]);

  const ask = useCallback(
    async (content: string | null) => {
      if (inFlight.current) return; // one answer at a time
      const controller = new AbortController();
      inFlight.current = controller;
      const current = () => inFlight.current === controller;
      setError(null);
      setStopped(false);
      setStreaming("");
      let answer = "";
      try {
        for await (const event of api.sendMessage(conversationId, content, controller.signal)) {
          if (!current()) break;
          if (event.event === "start") {
            if (content !== null) {
              const sent = event.data.user_message;
              setMessages((list) => [...list, sent]);
              onSent.current?.(sent);
            }
            setQuota(event.data.quota);
          } else if (event.event === "delta") {
            answer += event.data.content;
            setStreaming(answer);
          } else if (event.event === "done") {
            const stored = event.data.assistant_message;
            setMessages((list) => [...list, stored]);
            setQuota(event.data.quota);
          } else if (event.event === "error") {
            const partial = event.data.partial_message;
            if (partial) setMessages((list) => [...list, partial]);
            setError(new api.ApiError(event.data.status, event.data.code, event.data.detail));
            reloadQuota();
          }
        }
      } catch (caught) {
        if (current()) {
          if ((caught as Error).name === "AbortError") {
            setStopped(true);
            // The server keeps what was produced; show the stored state.
            api.conversation(conversationId).then(
              (loaded) => {
                if (shownId.current === conversationId) setMessages(loaded.messages);
              },
              () => undefined,
            );
          } else {
            setError(caught);
          }
        }
        reloadQuota();
      } finally {
        if (current()) {
          inFlight.current = null;
          setStreaming(null);
        }
        reloadList();
      }
    },
    [conversationId, reloadList, reloadQuota, setQuota],
  );

  const stop = useCallback(() => inFlight.current?.abort(), []);

  return { messages, setMessages, streaming, error, stopped, ask, stop };
}
