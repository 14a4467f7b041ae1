import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { I18nProvider } from "../i18n";
import { MessageEditor } from "./MessageEditor";

function renderEditor(disabled = false) {
  const onSend = vi.fn();
  const onCancel = vi.fn();
  render(
    <I18nProvider>
      <MessageEditor initial="Tea for two" disabled={disabled} onSend={onSend} onCancel={onCancel} />
    </I18nProvider>,
  );
  const field = screen.getByLabelText("Edit your message (Ctrl+Enter to send, Escape to cancel)") as HTMLTextAreaElement;
  return { onSend, onCancel, field };
}

describe("MessageEditor", () => {
  beforeEach(() => localStorage.setItem("haruchat.lang", "en"));
  afterEach(cleanup);

  it("opens on the message's text, focused, and sends the new text with Save & send", () => {
    const { onSend, field } = renderEditor();
    expect(field.value).toBe("Tea for two");
    expect(document.activeElement).toBe(field);
    fireEvent.change(field, { target: { value: "Tea for three" } });
    fireEvent.click(screen.getByRole("button", { name: "Save & send" }));
    expect(onSend).toHaveBeenCalledWith("Tea for three");
  });

  it("sends with Ctrl+Enter or Cmd+Enter, keeps Enter for a new line, and cancels with Escape", () => {
    const { onSend, onCancel, field } = renderEditor();
    fireEvent.keyDown(field, { key: "Enter" });
    expect(onSend).not.toHaveBeenCalled();
    fireEvent.keyDown(field, { key: "Enter", ctrlKey: true });
    fireEvent.keyDown(field, { key: "Enter", metaKey: true });
    expect(onSend).toHaveBeenCalledTimes(2);
    fireEvent.keyDown(field, { key: "Escape" });
    expect(onCancel).toHaveBeenCalledOnce();
    fireEvent.click(screen.getByRole("button", { name: "Cancel" }));
    expect(onCancel).toHaveBeenCalledTimes(2);
  });

  it("sends nothing blank, nor while an answer is on its way", () => {
    const { onSend, field } = renderEditor();
    fireEvent.change(field, { target: { value: "  " } });
    expect((screen.getByRole("button", { name: "Save & send" }) as HTMLButtonElement).disabled).toBe(true);
    fireEvent.keyDown(field, { key: "Enter", ctrlKey: true });
    expect(onSend).not.toHaveBeenCalled();
    cleanup();
    const busy = renderEditor(true);
    fireEvent.keyDown(busy.field, { key: "Enter", ctrlKey: true });
    expect(busy.onSend).not.toHaveBeenCalled();
  });
});
