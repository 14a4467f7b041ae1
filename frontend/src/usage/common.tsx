/** Pieces both usage pages share: loading data, its errors in the pages' words, and a used-of-limit meter. */
import { ApiError } from "../api";
import { formatNumber, useUsageI18n, type UsageKey } from "./strings";

export { useLoad, type Loaded } from "../hooks/useLoad";

function errorText(error: unknown, t: ReturnType<typeof useUsageI18n>["t"]): string {
  if (error instanceof ApiError) {
    if (error.status === 0) return t("errOffline");
    if (error.status === 404) return t("errNotFound");
    if (error.status === 400 && "from" in error.body) return t("badRange");
    if (error.status >= 500) return t("errServer");
    return t("errGeneric", { detail: error.message });
  }
  return t("errGeneric", { detail: error instanceof Error ? error.message : String(error) });
}

export function UsageError({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  const { t } = useUsageI18n();
  if (!error) return null;
  return (
    <div role="alert" className="error row usage-error">
      <span>{errorText(error, t)}</span>
      {onRetry && (
        <button type="button" onClick={onRetry}>
          {t("retry")}
        </button>
      )}
    </div>
  );
}

export function Loading() {
  const { t } = useUsageI18n();
  return (
    <p className="muted" role="status">
      {t("loading")}
    </p>
  );
}

/** A summary figure: a label over a big number. */
export function Figure({ label, value, note }: { label: UsageKey; value: number; note?: string }) {
  const { lang, t } = useUsageI18n();
  return (
    <div className="usage-figure">
      <dt>{t(label)}</dt>
      <dd>
        <strong>{formatNumber(lang, value)}</strong>
        {note && <span className="muted small">{note}</span>}
      </dd>
    </div>
  );
}

/** How much of a limit is used, as a bar (the words next to it say the same). */
export function Meter({ used, limit, label }: { used: number; limit: number; label: string }) {
  const share = limit > 0 ? Math.min(1, used / limit) : used > 0 ? 1 : 0;
  return (
    <div
      className={share >= 1 ? "meter full" : "meter"}
      role="meter"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={limit}
      aria-valuenow={Math.min(used, limit)}
    >
      <span style={{ width: `${share * 100}%` }} />
    </div>
  );
}
