/** Pieces the operator pages share: loading data, errors in the area's words, and copying a link. */
import { useEffect, useId, useRef, useState } from "react";
import { ApiError } from "../api";
import { copyText } from "../clipboard";
import { describeError } from "../components/ErrorNotice";
import { useI18n } from "../i18n";
import { errorKey, useOperatorI18n } from "./strings";

export { useLoad, type Loaded } from "../hooks/useLoad";

/** An API error said in the operator's words where the area knows better, else as the rest of the app says it. */
export function OperatorError({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  const { t: shared } = useI18n();
  const { t } = useOperatorI18n();
  if (!error) return null;
  let message: string;
  const known = error instanceof ApiError ? errorKey(error.code) : null;
  if (error instanceof ApiError && error.code === "unknown_member") message = t("errUnknownMember");
  else if (known) message = t(known);
  else if (error instanceof ApiError && error.status === 404) message = t("notFound");
  else if (error instanceof ApiError && error.status >= 500) message = t("errServer");
  else message = describeError(error, shared);
  return (
    <div role="alert" className="error row">
      <span>{message}</span>
      {onRetry && (
        <button type="button" onClick={onRetry}>
          {t("retry")}
        </button>
      )}
    </div>
  );
}

export function Loading() {
  const { shared } = useOperatorI18n();
  return (
    <p className="muted" role="status">
      {shared("loading")}
    </p>
  );
}

/** A Copy button that says, for screen readers too, whether it worked. */
export function CopyButton({ text, label, title }: { text: string; label?: string; title?: string }) {
  const { t } = useOperatorI18n();
  const [state, setState] = useState<"idle" | "copied" | "failed">("idle");
  const timer = useRef<ReturnType<typeof setTimeout>>(undefined);
  useEffect(() => () => clearTimeout(timer.current), []);
  async function copy() {
    const ok = await copyText(text);
    setState(ok ? "copied" : "failed");
    clearTimeout(timer.current);
    timer.current = setTimeout(() => setState("idle"), 4000);
  }
  return (
    <span className="copy">
      <button type="button" onClick={copy} aria-label={title}>
        {label ?? t("copy")}
      </button>
      <span role="status" className={state === "failed" ? "copy-state failed" : "copy-state"}>
        {state === "copied" ? t("copied") : state === "failed" ? t("copyFailed") : ""}
      </span>
    </span>
  );
}

/** A number field's value: empty is null (inherit / none). */
export const numberOrNull = (value: string): number | null => (value.trim() === "" ? null : Number(value));

/** A whole-number field whose empty value means "none" (inherit, no budget), with its help under it. */
export function NumberField({
  label,
  help,
  value,
  onChange,
  min = 0,
}: {
  label: string;
  help?: string;
  value: string;
  onChange: (value: string) => void;
  min?: number;
}) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        type="number"
        min={min}
        step={1}
        inputMode="numeric"
        value={value}
        onChange={(e) => onChange(e.target.value)}
        aria-describedby={help ? `${id}-help` : undefined}
      />
      {help && (
        <span id={`${id}-help`} className="muted small">
          {help}
        </span>
      )}
    </div>
  );
}
