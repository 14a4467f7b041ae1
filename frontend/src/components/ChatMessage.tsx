import { useEffect, useRef } from "react";
import type { Message } from "../api";
import type { LiveAnswer } from "../hooks/useAnswerStream";
import { useI18n } from "../i18n";
import { BranchSwitcher } from "./BranchSwitcher";
import { CopyButton } from "./CopyButton";
import { Markdown } from "./Markdown";
import { MessageEditor } from "./MessageEditor";

export interface ChatMessageProps {
  message: Message;
  /** The message's versions (itself among them), oldest first: more than one shows "‹ n / m ›". */
  versions: Message[];
  /** Set when this is the answer being written: its text so far. */
  live?: LiveAnswer | null;
  /** An answer is on its way: no edits, regenerations or switches until it ends. */
  busy: boolean;
  editing: boolean;
  onEdit: () => void;
  onCancelEdit: () => void;
  onSendEdit: (text: string) => void;
  onRegenerate: () => void;
  onSwitch: (messageId: number) => void;
  onDetails: (completionId: number) => void;
}

/** One message of the branch shown: its text (or its editor), what became of it, and what can be done with it. */
export function ChatMessage(props: ChatMessageProps) {
  const { message, versions, live, busy, editing } = props;
  const { t } = useI18n();
  const editButton = useRef<HTMLButtonElement>(null);
  const wasEditing = useRef(editing);
  useEffect(() => {
    if (wasEditing.current && !editing) editButton.current?.focus(); // back where the member was
    wasEditing.current = editing;
  }, [editing]);

  const isAnswer = message.role === "assistant";
  const text = live ? live.text : message.content;
  const index = versions.findIndex((version) => version.id === message.id);
  // What became of an answer that did not end by itself (while it is written, the Stop button says it).
  const note = live ? null : message.status === "stopped" ? t("answerStopped") : message.status === "interrupted" ? t("answerInterrupted") : null;

  return (
    <li
      className={`message ${message.role}${live ? " streaming" : ""}${editing ? " editing" : ""}`}
      data-testid={live ? "streaming" : undefined}
    >
      {editing ? (
        <MessageEditor
          key={message.id}
          initial={message.content}
          disabled={busy}
          onSend={props.onSendEdit}
          onCancel={props.onCancelEdit}
        />
      ) : isAnswer ? (
        text ? <Markdown text={text} /> : live ? <p className="muted">{t("thinking")}</p> : null
      ) : (
        <p className="plain">{text}</p>
      )}
      {note && <p className="message-note">{note}</p>}
      {!editing && (versions.length > 1 || !live) && (
        <div className="message-actions">
          {versions.length > 1 && (
            <BranchSwitcher
              index={index}
              count={versions.length}
              disabled={busy}
              onSelect={(to) => props.onSwitch(versions[to].id)}
            />
          )}
          {!live && !isAnswer && (
            <button ref={editButton} type="button" className="action-button" onClick={props.onEdit} disabled={busy} aria-label={t("editMessage")}>
              {t("edit")}
            </button>
          )}
          {!live && isAnswer && <CopyButton text={message.content} label={t("copyAnswer")} />}
          {!live && isAnswer && (
            <button type="button" className="action-button" onClick={props.onRegenerate} disabled={busy} aria-label={t("regenerateAnswer")}>
              {t("regenerate")}
            </button>
          )}
          {!live && message.completion_id && (
            <button type="button" className="link-button details" onClick={() => props.onDetails(message.completion_id!)}>
              {t("details")}
            </button>
          )}
        </div>
      )}
    </li>
  );
}
