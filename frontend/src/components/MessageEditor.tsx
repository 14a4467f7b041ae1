import { useEffect, useId, useRef, useState, type FormEvent, type KeyboardEvent } from "react";
import { useI18n } from "../i18n";

/**
 * A member's message, rewritten in place: Save & send (or Ctrl/Cmd+Enter) sends the new text as a new
 * version of it; Cancel (or Escape) leaves it as it was. Enter alone is a new line here.
 */
export function MessageEditor({
  initial,
  disabled = false,
  onSend,
  onCancel,
}: {
  initial: string;
  /** An answer is on its way: the text can be changed but not sent yet. */
  disabled?: boolean;
  onSend: (text: string) => void;
  onCancel: () => void;
}) {
  const { t } = useI18n();
  const id = useId();
  const [text, setText] = useState(initial);
  const field = useRef<HTMLTextAreaElement>(null);
  const canSend = Boolean(text.trim()) && !disabled;

  useEffect(() => {
    const element = field.current;
    element?.focus();
    element?.setSelectionRange(element.value.length, element.value.length);
  }, []);

  function send(event?: FormEvent) {
    event?.preventDefault();
    if (canSend) onSend(text);
  }

  function onKeyDown(event: KeyboardEvent<HTMLTextAreaElement>) {
    if (event.nativeEvent.isComposing) return; // a Korean syllable being composed takes its keys
    if (event.key === "Escape") {
      event.preventDefault();
      onCancel();
    } else if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      send();
    }
  }

  return (
    <form className="message-editor" onSubmit={send}>
      <label htmlFor={id} className="visually-hidden">
        {t("editorLabel")}
      </label>
      <textarea
        id={id}
        ref={field}
        rows={Math.min(Math.max(text.split("\n").length, 2), 12)}
        value={text}
        onChange={(event) => setText(event.target.value)}
        onKeyDown={onKeyDown}
      />
      <div className="message-editor-actions">
        <button type="button" onClick={onCancel}>
          {t("cancel")}
        </button>
        <button type="submit" className="primary" disabled={!canSend}>
          {t("saveAndSend")}
        </button>
      </div>
    </form>
  );
}
