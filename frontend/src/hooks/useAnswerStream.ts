/**
 * A conversation's message tree and the answer being written into it. Sending, editing and
 * regenerating stream an answer: `start` stores the member's message and the answer (empty),
 * `delta`s grow the answer's text, `done` replaces it with the stored answer, `error` keeps what
 * was stored and says why. Generation belongs to the server: an answer still being written when
 * the conversation opens is followed from where its stored text ends, a dropped connection
 * resumes from the last character received, and only Stop (a request of its own) ends it.
 * Also keeps the shared allowance and the conversation list fresh.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import * as api from "../api";
import { useAppState } from "../state";
import {
  EMPTY_TREE,
  branchOf,
  characterCount,
  isBeingWritten,
  newestLeafUnder,
  withMessage,
  type MessageTree,
} from "./messageTree";

export interface AnswerStreamOptions {
  /** Called when the server has stored the member's new message from the composer: e.g. clear the draft. */
  onSent?: (message: api.Message) => void;
}

/** The answer on its way, as shown. */
export interface LiveAnswer {
  /** The stored answer being written; null until the server has stored it (its `start`). */
  answerId: number | null;
  text: string;
  /** The member asked to stop: the stream ends with what was written by then. */
  stopping: boolean;
}

export interface AnswerStream {
  tree: MessageTree;
  /** The branch shown: from a root down to the current leaf. */
  branch: api.Message[];
  live: LiveAnswer | null;
  /** Why the last answer (or switch) failed: an ApiError, or whatever the request threw; null after a new one. */
  error: unknown;
  /** True when the member stopped an answer before it had any text (with text, the answer says "stopped"). */
  stopped: boolean;
  /** Show a conversation as loaded, and follow its answer if the server is still writing it. */
  load: (conversation: Pick<api.Conversation, "messages" | "current_leaf_id">) => void;
  /** Send `content` after the current leaf (or, with null, ask for the answer to the member's last message). */
  ask: (content: string | null) => Promise<void>;
  /** Send `content` in place of a member's message: a new sibling of it; `onSent` once it is stored. */
  edit: (message: api.Message, content: string, onSent?: () => void) => Promise<void>;
  /** Another answer beside `message` (an answer), or to it (the member's message). */
  regenerate: (message: api.Message) => Promise<void>;
  /** Follow an answer the server is writing, from the text already shown. */
  follow: (answer: api.Message) => Promise<void>;
  /** Show the branch through another version of a message. */
  switchTo: (messageId: number) => Promise<void>;
  /** Ask the server to stop the answer on its way. */
  stop: () => void;
}

/** Waits before reconnecting a dropped stream; the attempts give up after the last. */
export const RECONNECT_DELAYS_MS = [250, 1000, 2000, 4000, 8000];

type OpenStream = (signal: AbortSignal) => AsyncIterable<api.StreamEvent>;

/** What a stream has brought so far; `offset` is the text's length as the server counts it. */
interface Progress {
  answerId: number | null;
  text: string;
  offset: number;
  stopRequested: boolean;
}

/** A delta's new text: what the event's id says lies beyond `offset` (a resent piece is not shown twice). */
export function freshText(progress: Pick<Progress, "offset">, content: string, id: string | undefined): { text: string; offset: number } {
  const characters = Array.from(content);
  const end = id !== undefined && id !== "" && Number.isFinite(Number(id)) ? Number(id) : progress.offset + characters.length;
  const start = end - characters.length;
  if (end <= progress.offset) return { text: "", offset: progress.offset };
  return { text: characters.slice(Math.max(progress.offset - start, 0)).join(""), offset: end };
}

const dropped = () => new api.ApiError(0, "offline", "The connection to the server was lost.");

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

export function useAnswerStream(conversationId: number, options: AnswerStreamOptions = {}): AnswerStream {
  const { setQuota, reloadList, reloadQuota } = useAppState();
  const [tree, setTree] = useState<MessageTree>(EMPTY_TREE);
  const [live, setLive] = useState<LiveAnswer | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [stopped, setStopped] = useState(false);
  const inFlight = useRef<AbortController | null>(null);
  const openStreams = useRef(new Set<AbortController>()); // the answer's, and ended ones still bringing a title
  const progress = useRef<Progress | null>(null);
  const shownId = useRef(conversationId);
  const onSent = useRef(options.onSent);
  useEffect(() => {
    onSent.current = options.onSent; // the latest callback, without restarting anything when it changes
  });

  // Another conversation starts empty; a stream still open for the old one is closed (dropped from
  // inFlight first, so it can't write into the new conversation). The server goes on writing it.
  useEffect(() => {
    shownId.current = conversationId;
    setTree(EMPTY_TREE);
    setLive(null);
    setError(null);
    setStopped(false);
    const streams = openStreams.current;
    return () => {
      inFlight.current = null;
      progress.current = null;
      streams.forEach((controller) => controller.abort());
    };
  }, [conversationId]);

  const requestStop = useCallback(
    (answerId: number) => {
      api.stopAnswer(conversationId, answerId).catch((caught: unknown) => {
        // Already ended: its stream says how. Otherwise the member may try again.
        if (caught instanceof api.ApiError && caught.code === "not_generating") return;
        const now = progress.current;
        if (now?.answerId !== answerId) return;
        now.stopRequested = false;
        setLive((shown) => shown && { ...shown, stopping: false });
        setError(caught);
      });
    },
    [conversationId],
  );

  /**
   * Runs one answer's stream to its end: `open` first, then, while the connection drops before
   * `done` or `error`, the answer's own stream from the last character received.
   */
  const run = useCallback(
    async (
      open: OpenStream,
      from: { answerId: number | null; text: string; stopping?: boolean },
      onStart?: (sent: api.Message) => void,
    ) => {
      if (inFlight.current) return; // one answer at a time
      const controller = new AbortController();
      inFlight.current = controller;
      openStreams.current.add(controller);
      const current = () => inFlight.current === controller;
      const state: Progress = {
        answerId: from.answerId,
        text: from.text,
        offset: characterCount(from.text),
        stopRequested: from.stopping ?? false,
      };
      progress.current = state;
      const show = () => setLive({ answerId: state.answerId, text: state.text, stopping: state.stopRequested });
      setError(null);
      setStopped(false);
      show();

      /** Applies one event; true once the answer has ended. */
      const apply = (event: api.StreamEvent): boolean => {
        if (event.event === "start") {
          const { user_message: sent, assistant_message: answer } = event.data;
          setTree(({ messages }) => {
            const withSent = withMessage(messages, sent);
            return { messages: answer ? withMessage(withSent, answer) : withSent, leafId: (answer ?? sent).id };
          });
          onStart?.(sent);
          setQuota(event.data.quota);
          if (answer) state.answerId = answer.id;
          show();
          if (state.stopRequested && state.answerId !== null) requestStop(state.answerId);
        } else if (event.event === "delta") {
          const fresh = freshText(state, event.data.content, event.id);
          state.offset = fresh.offset;
          if (fresh.text) {
            state.text += fresh.text;
            show();
          }
        } else if (event.event === "done") {
          const stored = event.data.assistant_message;
          setTree(({ messages }) => ({ messages: withMessage(messages, stored), leafId: stored.id }));
          if (event.data.quota) setQuota(event.data.quota);
          return true;
        } else if (event.event === "error") {
          const { partial_message: partial, code, status, detail } = event.data;
          setTree((shown) => {
            if (partial) return { messages: withMessage(shown.messages, partial), leafId: partial.id };
            // Nothing was kept: the answer stored at its start is gone, and the branch ends with the member's message.
            const empty = shown.messages.find((message) => message.id === state.answerId);
            if (!empty) return shown;
            return { messages: shown.messages.filter((message) => message !== empty), leafId: empty.parent_id ?? null };
          });
          if (code === "stopped") setStopped(true);
          else setError(new api.ApiError(status, code, detail));
          reloadQuota();
          return true;
        }
        return false;
      };

      /** The answer has ended: the member may ask again (the stream may still bring the new title). */
      const settle = () => {
        if (!current()) return;
        inFlight.current = null;
        progress.current = null;
        setLive(null);
      };

      let next = open;
      let attempt = 0;
      let ended = false;
      try {
        for (;;) {
          try {
            for await (const event of next(controller.signal)) {
              if (controller.signal.aborted) return; // another conversation is shown
              if (ended) {
                // After a first exchange the server names the conversation: the list and the header follow.
                if (event.event === "title") reloadList();
                continue;
              }
              if (apply(event)) {
                ended = true;
                settle();
              }
              if (event.event === "delta") attempt = 0; // progress: a later drop starts its waits over
            }
          } catch (caught) {
            if (controller.signal.aborted || ended) return;
            // Refused (a 4xx, a 429), or nothing stored yet to come back to: the member sees why.
            const refused = caught instanceof api.ApiError && caught.status !== 0;
            if (refused) throw caught;
            if (state.answerId === null) throw caught instanceof TypeError ? dropped() : caught; // fetch's "network error"
          }
          if (ended) return;
          // The connection ended before the answer did: follow it from the last character received.
          if (state.answerId === null || attempt >= RECONNECT_DELAYS_MS.length) throw dropped();
          await pause(RECONNECT_DELAYS_MS[attempt++], controller.signal);
          if (controller.signal.aborted) return;
          const answerId = state.answerId;
          next = (signal) => api.followAnswer(conversationId, answerId, state.offset, signal);
        }
      } catch (caught) {
        if (current()) {
          setError(caught);
          reloadQuota();
          // Cut off before `start`: the server may have stored the message and begun the answer all the
          // same. What it has is shown (and followed), once this run has let go.
          const refused = caught instanceof api.ApiError && caught.status !== 0;
          if (state.answerId === null && !refused) queueMicrotask(() => resync.current());
        }
      } finally {
        settle();
        openStreams.current.delete(controller);
        reloadList();
      }
    },
    [conversationId, reloadList, reloadQuota, setQuota, requestStop],
  );

  const ask = useCallback(
    (content: string | null) =>
      run(
        (signal) => api.sendMessage(conversationId, content, { signal }),
        { answerId: null, text: "" },
        content === null ? undefined : (sent) => onSent.current?.(sent),
      ),
    [conversationId, run],
  );

  const edit = useCallback(
    (message: api.Message, content: string, onEdited?: () => void) =>
      run(
        (signal) => api.sendMessage(conversationId, content, { parentId: message.parent_id ?? null, signal }),
        { answerId: null, text: "" },
        onEdited,
      ),
    [conversationId, run],
  );

  const regenerate = useCallback(
    (message: api.Message) => run((signal) => api.regenerateAnswer(conversationId, message.id, signal), { answerId: null, text: "" }),
    [conversationId, run],
  );

  const follow = useCallback(
    (answer: api.Message) =>
      run((signal) => api.followAnswer(conversationId, answer.id, characterCount(answer.content), signal), {
        answerId: answer.id,
        text: answer.content,
        stopping: answer.status === "stopping", // asked to stop elsewhere (another tab or device)
      }),
    [conversationId, run],
  );

  const load = useCallback(
    (conversation: Pick<api.Conversation, "messages" | "current_leaf_id">) => {
      const loaded = { messages: conversation.messages, leafId: conversation.current_leaf_id ?? null };
      setTree(loaded);
      const last = branchOf(loaded).at(-1);
      if (last && isBeingWritten(last)) void follow(last);
    },
    [follow],
  );

  const resync = useRef(() => {});
  useEffect(() => {
    resync.current = () =>
      api.conversation(conversationId).then(
        (stored) => shownId.current === conversationId && !inFlight.current && load(stored),
        () => undefined, // still unreachable: the error shown says so
      );
  });

  const latestSwitch = useRef(0);
  const switchTo = useCallback(
    async (messageId: number) => {
      if (inFlight.current) return;
      const mine = ++latestSwitch.current; // a quicker later switch wins over this one's late answer
      const stillShown = () => shownId.current === conversationId && latestSwitch.current === mine;
      setError(null);
      setStopped(false);
      // Shown at once (the server walks down the same way); the server's answer then settles it.
      setTree((shown) => ({ ...shown, leafId: newestLeafUnder(shown.messages, messageId) }));
      try {
        const switched = await api.switchBranch(conversationId, messageId);
        if (stillShown()) load(switched);
      } catch (caught) {
        if (!stillShown()) return;
        setError(caught);
        api.conversation(conversationId).then((stored) => stillShown() && load(stored), () => undefined);
      }
    },
    [conversationId, load],
  );

  const stop = useCallback(() => {
    const state = progress.current;
    if (!state || state.stopRequested) return;
    state.stopRequested = true; // before the answer is stored, the stop goes out as soon as it is
    setLive((shown) => shown && { ...shown, stopping: true });
    if (state.answerId !== null) requestStop(state.answerId);
  }, [requestStop]);

  const branch = useMemo(() => branchOf(tree), [tree]);
  return { tree, branch, live, error, stopped, load, ask, edit, regenerate, follow, switchTo, stop };
}
