import type { KeyboardEvent } from "react";
import { useI18n } from "../i18n";

/**
 * "‹ 2 / 3 ›": which version of a message is shown, and the way to the others (the buttons, or the
 * arrow keys inside the group). An end, or a busy conversation, makes a button aria-disabled rather
 * than disabled, so the focus stays on it.
 */
export function BranchSwitcher({
  index,
  count,
  disabled = false,
  onSelect,
}: {
  /** The version shown, from 0. */
  index: number;
  count: number;
  disabled?: boolean;
  onSelect: (index: number) => void;
}) {
  const { t } = useI18n();
  const canGo = (to: number) => !disabled && to >= 0 && to < count;
  const go = (to: number) => {
    if (canGo(to)) onSelect(to);
  };

  function onKeyDown(event: KeyboardEvent<HTMLDivElement>) {
    const step = event.key === "ArrowLeft" ? -1 : event.key === "ArrowRight" ? 1 : 0;
    if (!step) return;
    event.preventDefault();
    go(index + step);
  }

  return (
    <div className="branch-switcher" role="group" aria-label={t("versionOf", { n: index + 1, total: count })} onKeyDown={onKeyDown}>
      <button type="button" aria-label={t("previousVersion")} aria-disabled={!canGo(index - 1)} onClick={() => go(index - 1)}>
        ‹
      </button>
      <span className="branch-position" aria-hidden="true">
        {index + 1} / {count}
      </span>
      <button type="button" aria-label={t("nextVersion")} aria-disabled={!canGo(index + 1)} onClick={() => go(index + 1)}>
        ›
      </button>
    </div>
  );
}
