import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { I18nProvider } from "../i18n";
import { BranchSwitcher } from "./BranchSwitcher";

function renderSwitcher(index: number, count: number, disabled = false) {
  const onSelect = vi.fn();
  render(
    <I18nProvider>
      <BranchSwitcher index={index} count={count} disabled={disabled} onSelect={onSelect} />
    </I18nProvider>,
  );
  return onSelect;
}

describe("BranchSwitcher", () => {
  beforeEach(() => localStorage.setItem("haruchat.lang", "en"));
  afterEach(cleanup);

  it("shows which version is shown and goes to the others by its buttons", () => {
    const onSelect = renderSwitcher(1, 3);
    const group = screen.getByRole("group", { name: "Version 2 of 3" });
    expect(group.textContent).toContain("2 / 3");
    fireEvent.click(screen.getByRole("button", { name: "Previous version" }));
    expect(onSelect).toHaveBeenLastCalledWith(0);
    fireEvent.click(screen.getByRole("button", { name: "Next version" }));
    expect(onSelect).toHaveBeenLastCalledWith(2);
  });

  it("works from the keyboard: the arrow keys inside it", () => {
    const onSelect = renderSwitcher(1, 3);
    const next = screen.getByRole("button", { name: "Next version" });
    next.focus();
    fireEvent.keyDown(next, { key: "ArrowLeft" });
    expect(onSelect).toHaveBeenLastCalledWith(0);
    fireEvent.keyDown(next, { key: "ArrowRight" });
    expect(onSelect).toHaveBeenLastCalledWith(2);
  });

  it("goes nowhere past an end, or while an answer is on its way, and keeps the focus", () => {
    const onSelect = renderSwitcher(0, 2);
    const previous = screen.getByRole("button", { name: "Previous version" });
    expect(previous.getAttribute("aria-disabled")).toBe("true");
    previous.focus();
    fireEvent.click(previous);
    expect(onSelect).not.toHaveBeenCalled();
    expect(document.activeElement).toBe(previous);
    cleanup();
    const busy = renderSwitcher(0, 2, true);
    fireEvent.click(screen.getByRole("button", { name: "Next version" }));
    expect(busy).not.toHaveBeenCalled();
  });

  it("speaks Korean", () => {
    localStorage.setItem("haruchat.lang", "ko");
    renderSwitcher(0, 2);
    expect(screen.getByRole("group", { name: "2개 중 1번째 버전" })).toBeTruthy();
    expect(screen.getByRole("button", { name: "이전 버전" })).toBeTruthy();
    expect(screen.getByRole("button", { name: "다음 버전" })).toBeTruthy();
  });
});
