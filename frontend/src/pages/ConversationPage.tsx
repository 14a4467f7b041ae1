import { useCallback, useEffect, useRef, useState, type FormEvent, type KeyboardEvent } from "react";
import { useParams } from "react-router";
import * as api from "../api";
import { CallDetails } from "../components/CallDetails";
import { ChatErrorNotice } from "../components/ErrorNotice";
import { Markdown } from "../components/Markdown";
import { useI18n } from "../i18n";
import { useAppState } from "../state";

const draftKey = (id: number) => `haruchat.draft.${id}`;

/** One conversation: its messages, the composer, and the answer streaming in. */
export function ConversationPage() {
  const { t } = useI18n();
  const id = Number(useParams().id);
  const { setQuota, reloadList, reloadQuota } = useAppState();
  const [conversation, setConversation] = useState<api.Conversation | null>(null);
  const [messages, setMessages] = useState<api.Message[]>([]);
  const [streaming, setStreaming] = useState<string | null>(null);
  const [draft, setDraft] = useState(() => sessionStorage.getItem(draftKey(id)) ?? "");
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [details, setDetails] = useState<number | null>(null);
  const abort = useRef<AbortController | null>(null);
  const bottom = useRef<HTMLDivElement>(null);
  const autoAnswered = useRef(false);

  useEffect(() => {
    setConversation(null);
    setMessages([]);
    setError(null);
    setNotice(null);
    setDraft(sessionStorage.getItem(draftKey(id)) ?? "");
    autoAnswered.current = false;
    api.conversation(id).then((loaded) => {
      setConversation(loaded);
      setMessages(loaded.messages);
    }, setError);
    return () => abort.current?.abort();
  }, [id]);

  useEffect(() => {
    bottom.current?.scrollIntoView?.({ block: "end" });
  }, [messages, streaming, error, notice]);

  const ask = useCallback(
    async (content: string | null) => {
      setError(null);
      setNotice(null);
      const controller = new AbortController();
      abort.current = controller;
      setStreaming("");
      let answer = "";
      try {
        for await (const event of api.sendMessage(id, content, controller.signal)) {
          if (event.event === "start") {
            if (content !== null) {
              setMessages((current) => [...current, event.data.user_message]);
              setDraft("");
              sessionStorage.removeItem(draftKey(id));
            }
            setQuota(event.data.quota);
          } else if (event.event === "delta") {
            answer += event.data.content;
            setStreaming(answer);
          } else if (event.event === "done") {
            setMessages((current) => [...current, event.data.assistant_message]);
            setQuota(event.data.quota);
          } else if (event.event === "error") {
            const partial = event.data.partial_message;
            if (partial) setMessages((current) => [...current, partial]);
            setError(new api.ApiError(event.data.status, event.data.code, event.data.detail));
            reloadQuota();
          }
        }
      } catch (caught) {
        if ((caught as Error).name === "AbortError") {
          setNotice(t("stopped"));
          // The server keeps what was produced; show the stored state.
          api.conversation(id).then((loaded) => setMessages(loaded.messages), () => undefined);
        } else {
          setError(caught);
        }
        reloadQuota();
      } finally {
        setStreaming(null);
        abort.current = null;
        reloadList();
      }
    },
    [id, reloadList, reloadQuota, setQuota, t],
  );

  // A guided conversation opens with the intake answers; ask for the first reply at once.
  useEffect(() => {
    if (conversation?.awaiting_reply && !autoAnswered.current && messages.length === 1) {
      autoAnswered.current = true;
      void ask(null);
    }
  }, [conversation, messages.length, ask]);

  function submit(event?: FormEvent) {
    event?.preventDefault();
    if (!draft.trim() || streaming !== null) return;
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
        <h1>{conversation ? conversation.title || t("untitled") : t("loading")}</h1>
        {conversation && <span className="muted">{conversation.model}</span>}
      </header>
      <ol className="messages" aria-live="polite">
        {messages.map((message) => (
          <li key={message.id} className={`message ${message.role}`}>
            {message.role === "assistant" ? <Markdown text={message.content} /> : <p className="plain">{message.content}</p>}
            {message.completion_id && (
              <button type="button" className="link-button details" onClick={() => setDetails(message.completion_id)}>
                {t("details")}
              </button>
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
        {notice && <p className="notice">{notice}</p>}
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
            <button type="button" className="danger" onClick={() => abort.current?.abort()}>
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
