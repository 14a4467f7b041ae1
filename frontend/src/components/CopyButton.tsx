import { useEffect, useRef, useState } from "react";
import { copyText } from "../clipboard";
import { useI18n } from "../i18n";

const SHOWN_FOR_MS = 2000;

/**
 * "Copy", then "Copied" for a moment. `label` names what is copied for screen readers ("Copy code"),
 * and a status line tells them whether it worked.
 */
export function CopyButton({ text, label }: { text: string; label: string }) {
  const { t } = useI18n();
  const [state, setState] = useState<"idle" | "copied" | "failed">("idle");
  const timer = useRef<ReturnType<typeof setTimeout>>(undefined);
  useEffect(() => () => clearTimeout(timer.current), []);

  async function copy() {
    setState((await copyText(text)) ? "copied" : "failed");
    clearTimeout(timer.current);
    timer.current = setTimeout(() => setState("idle"), SHOWN_FOR_MS);
  }

  return (
    <>
      <button type="button" className="copy-button" onClick={copy} aria-label={label}>
        {state === "copied" ? t("copied") : state === "failed" ? t("copyFailed") : t("copy")}
      </button>
      <span role="status" className="visually-hidden">
        {state === "copied" ? t("copied") : state === "failed" ? t("copyFailed") : ""}
      </span>
    </>
  );
}
