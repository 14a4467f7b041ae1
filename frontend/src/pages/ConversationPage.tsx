import { useEffect, useRef, useState, type FormEvent, type KeyboardEvent } from "react";
import { useParams } from "react-router";
import * as api from "../api";
import { CallDetails } from "../components/CallDetails";
import { ChatMessage } from "../components/ChatMessage";
import { ChatErrorNotice } from "../components/ErrorNotice";
import { Markdown } from "../components/Markdown";
import { isBeingWritten, versionsOf } from "../hooks/messageTree";
import { useAnswerStream } from "../hooks/useAnswerStream";
import { useI18n } from "../i18n";
import { useAppState } from "../state";

const draftKey = (id: number) => `haruchat.draft.${id}`;
const APP_TITLE = "haruchat";

/** One conversation: the branch shown, the composer, and the answer streaming in. */
export function ConversationPage() {
  const { t } = useI18n();
  const id = Number(useParams().id);
  const { listVersion } = useAppState();
  const [conversation, setConversation] = useState<api.Conversation | null>(null);
  const [draft, setDraft] = useState(() => sessionStorage.getItem(draftKey(id)) ?? "");
  const [loadError, setLoadError] = useState<unknown>(null);
  const [details, setDetails] = useState<number | null>(null);
  const [editingId, setEditingId] = useState<number | null>(null);
  const bottom = useRef<HTMLDivElement>(null);
  const autoAnswered = useRef(false);
  const answers = useAnswerStream(id, {
    onSent: () => {
      setDraft("");
      sessionStorage.removeItem(draftKey(id));
    },
  });
  const { tree, branch, live, stopped, load, ask } = answers;
  const error = loadError ?? answers.error;

  useEffect(() => {
    let shown = true;
    setConversation(null);
    setLoadError(null);
    setEditingId(null);
    setDraft(sessionStorage.getItem(draftKey(id)) ?? "");
    autoAnswered.current = false;
    api.conversation(id).then(
      (loaded) => {
        if (!shown) return; // another conversation was opened meanwhile
        setConversation(loaded);
        load(loaded);
      },
      (caught: unknown) => shown && setLoadError(caught),
    );
    return () => {
      shown = false;
    };
  }, [id, load]);

  // The title changes elsewhere: the server names a conversation after its first message, and the
  // sidebar renames it. Both reload the conversation list, and so the title shown here follows.
  const listVersionSeen = useRef(listVersion);
  useEffect(() => {
    if (listVersionSeen.current === listVersion) return;
    listVersionSeen.current = listVersion;
    api.conversation(id).then(
      (loaded) => setConversation((shown) => (shown?.id === loaded.id ? { ...shown, title: loaded.title } : shown)),
      () => undefined,
    );
  }, [id, listVersion]);

  const title = conversation ? conversation.title || t("untitled") : null;
  useEffect(() => {
    document.title = title ? `${title} · ${APP_TITLE}` : APP_TITLE;
    return () => {
      document.title = APP_TITLE;
    };
  }, [title]);

  // Down to the newest text when the conversation opens and while an answer comes in; switching
  // an earlier message's version leaves the view where the member is reading.
  const opened = branch.length > 0;
  useEffect(() => {
    bottom.current?.scrollIntoView?.({ block: "end" });
  }, [opened, live, error, stopped]);

  // A guided conversation opens with the intake answers; ask for the first reply at once
  // (only for the conversation shown: right after a switch, `conversation` is still the old one).
  useEffect(() => {
    if (conversation?.id === id && conversation.awaiting_reply && !autoAnswered.current && branch.length === 1) {
      autoAnswered.current = true;
      void ask(null);
    }
  }, [conversation, id, branch.length, ask]);

  function submit(event?: FormEvent) {
    event?.preventDefault();
    if (!draft.trim() || live !== null) return;
    setLoadError(null);
    void ask(draft);
  }

  function onKeyDown(event: KeyboardEvent<HTMLTextAreaElement>) {
    if (event.key === "Enter" && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      submit();
    }
  }

  function onDraftChange(value: string) {
    setDraft(value);
    sessionStorage.setItem(draftKey(id), value);
  }

  const last = branch.at(-1);
  const unanswered = live === null && last?.role === "user" && Boolean(error || stopped);
  // Following an answer gave up (the connection stayed down): the member can try again.
  const abandoned = live === null && isBeingWritten(last);
  const busy = live !== null;

  return (
    <section className="chat">
      <header className="chat-head">
        <h1>{title ?? t("loading")}</h1>
        {conversation && <span className="muted">{conversation.model}</span>}
      </header>
      {/* Busy while an answer streams: a screen reader then reads the finished answer once, not every piece. */}
      <ol className="messages" aria-live="polite" aria-busy={busy}>
        {/* Keyed by depth: a message's place stays when another version is shown, and so does the focus. */}
        {branch.map((message, depth) => (
          <ChatMessage
            key={depth}
            message={message}
            versions={versionsOf(tree, message)}
            live={live?.answerId === message.id ? live : null}
            busy={busy}
            editing={editingId === message.id}
            onEdit={() => setEditingId(message.id)}
            onCancelEdit={() => setEditingId(null)}
            onSendEdit={(text) => void answers.edit(message, text, () => setEditingId(null))}
            onRegenerate={() => void answers.regenerate(message)}
            onSwitch={(messageId) => void answers.switchTo(messageId)}
            onDetails={setDetails}
          />
        ))}
        {live && live.answerId === null && (
          <li className="message assistant streaming" data-testid="streaming">
            {live.text ? <Markdown text={live.text} /> : <p className="muted">{t("thinking")}</p>}
          </li>
        )}
      </ol>
      <footer className="composer-area">
        <ChatErrorNotice error={error} />
        {stopped && <p className="notice">{t("stopped")}</p>}
        {unanswered && (
          <button type="button" onClick={() => ask(null)}>
            {t("retry")}
          </button>
        )}
        {abandoned && last && (
          <button type="button" onClick={() => answers.follow(last)}>
            {t("reconnect")}
          </button>
        )}
        <form className="composer" onSubmit={submit}>
          <label htmlFor="composer" className="visually-hidden">
            {t("messagePlaceholder")}
          </label>
          <textarea
            id="composer"
            rows={3}
            placeholder={t("messagePlaceholder")}
            value={draft}
            onChange={(e) => onDraftChange(e.target.value)}
            onKeyDown={onKeyDown}
          />
          {live !== null ? (
            <button type="button" className="danger" onClick={answers.stop} disabled={live.stopping}>
              {live.stopping ? t("stopping") : t("stop")}
            </button>
          ) : (
            <button type="submit" className="primary" disabled={!draft.trim()}>
              {t("send")}
            </button>
          )}
        </form>
      </footer>
      {/* After the composer: scrolled to, the newest text sits above it (before it, the sticky composer covered it). */}
      <div ref={bottom} />
      {details !== null && <CallDetails conversationId={id} completionId={details} onClose={() => setDetails(null)} />}
    </section>
  );
}
