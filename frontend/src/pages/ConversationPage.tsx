import { useEffect, useRef, useState, type FormEvent, type KeyboardEvent } from "react";
import { useParams } from "react-router";
import * as api from "../api";
import { CallDetails } from "../components/CallDetails";
import { CopyButton } from "../components/CopyButton";
import { ChatErrorNotice } from "../components/ErrorNotice";
import { Markdown } from "../components/Markdown";
import { useAnswerStream } from "../hooks/useAnswerStream";
import { useI18n } from "../i18n";
import { useAppState } from "../state";

const draftKey = (id: number) => `haruchat.draft.${id}`;
const APP_TITLE = "haruchat";

/** One conversation: its messages, the composer, and the answer streaming in. */
export function ConversationPage() {
  const { t } = useI18n();
  const id = Number(useParams().id);
  const { listVersion } = useAppState();
  const [conversation, setConversation] = useState<api.Conversation | null>(null);
  const [draft, setDraft] = useState(() => sessionStorage.getItem(draftKey(id)) ?? "");
  const [loadError, setLoadError] = useState<unknown>(null);
  const [details, setDetails] = useState<number | null>(null);
  const bottom = useRef<HTMLDivElement>(null);
  const autoAnswered = useRef(false);
  const { messages, setMessages, streaming, error: answerError, stopped, ask, stop } = useAnswerStream(id, {
    onSent: () => {
      setDraft("");
      sessionStorage.removeItem(draftKey(id));
    },
  });
  const error = loadError ?? answerError;

  useEffect(() => {
    setConversation(null);
    setLoadError(null);
    setDraft(sessionStorage.getItem(draftKey(id)) ?? "");
    autoAnswered.current = false;
    api.conversation(id).then((loaded) => {
      setConversation(loaded);
      setMessages(loaded.messages);
    }, setLoadError);
  }, [id, setMessages]);

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

  useEffect(() => {
    bottom.current?.scrollIntoView?.({ block: "end" });
  }, [messages, streaming, error, stopped]);

  // A guided conversation opens with the intake answers; ask for the first reply at once
  // (only for the conversation shown: right after a switch, `conversation` is still the old one).
  useEffect(() => {
    if (conversation?.id === id && conversation.awaiting_reply && !autoAnswered.current && messages.length === 1) {
      autoAnswered.current = true;
      void ask(null);
    }
  }, [conversation, id, messages.length, ask]);

  function submit(event?: FormEvent) {
    event?.preventDefault();
    if (!draft.trim() || streaming !== null) return;
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

  const last = messages[messages.length - 1];
  const unanswered = streaming === null && last?.role === "user" && Boolean(error);

  return (
    <section className="chat">
      <header className="chat-head">
        <h1>{title ?? t("loading")}</h1>
        {conversation && <span className="muted">{conversation.model}</span>}
      </header>
      <ol className="messages" aria-live="polite">
        {messages.map((message) => (
          <li key={message.id} className={`message ${message.role}`}>
            {message.role === "assistant" ? <Markdown text={message.content} /> : <p className="plain">{message.content}</p>}
            {(message.role === "assistant" || message.completion_id) && (
              <div className="message-actions">
                {message.role === "assistant" && <CopyButton text={message.content} label={t("copyAnswer")} />}
                {message.completion_id && (
                  <button type="button" className="link-button details" onClick={() => setDetails(message.completion_id)}>
                    {t("details")}
                  </button>
                )}
              </div>
            )}
          </li>
        ))}
        {streaming !== null && (
          <li className="message assistant streaming" data-testid="streaming">
            {streaming ? <Markdown text={streaming} /> : <p className="muted">{t("thinking")}</p>}
          </li>
        )}
      </ol>
      <div ref={bottom} />
      <footer className="composer-area">
        <ChatErrorNotice error={error} />
        {stopped && <p className="notice">{t("stopped")}</p>}
        {unanswered && (
          <button type="button" onClick={() => ask(null)}>
            {t("retry")}
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
          {streaming !== null ? (
            <button type="button" className="danger" onClick={stop}>
              {t("stop")}
            </button>
          ) : (
            <button type="submit" className="primary" disabled={!draft.trim()}>
              {t("send")}
            </button>
          )}
        </form>
      </footer>
      {details !== null && <CallDetails conversationId={id} completionId={details} onClose={() => setDetails(null)} />}
    </section>
  );
}
