import { ApiError } from "../api";
import { formatResetTime, useI18n } from "../i18n";
import { useAppState } from "../state";

/** A clear message for an API error: quota with its reset time, model trouble, offline, or the server's own words. */
export function ErrorNotice({ error }: { error: unknown }) {
  const { t } = useI18n();
  if (!error) return null;
  return (
    <p role="alert" className="error">
      {describeError(error, t)}
    </p>
  );
}

export function describeError(
  error: unknown,
  t: ReturnType<typeof useI18n>["t"],
  quota?: { resets_at: string; time_zone?: string } | null,
): string {
  if (error instanceof ApiError) {
    if (error.code === "quota_exceeded") {
      const resetsAt = quota?.resets_at ?? new Date(Date.now() + (error.retryAfter ?? 0) * 1000).toISOString();
      return t("errQuota", { time: formatResetTime(resetsAt, quota?.time_zone) });
    }
    if (error.code === "offline") return t("errOffline");
    if (error.code === "invalid_reset_token") return t("errResetLink");
    if (error.code === "invalid_invite") return t("errInvite");
    if (error.code === "invite_required") return t("inviteRequired");
    if (error.code === "registration_closed") return t("registrationClosed");
    if (error.code === "signup_throttled") return t("errSignupThrottled");
    if (error.status >= 502 || error.code.startsWith("upstream") || error.code === "model_error") return t("errModel");
    return error.message;
  }
  if (error instanceof Error) return t("errGeneric", { detail: error.message });
  return t("errGeneric", { detail: String(error) });
}

/** ErrorNotice inside the chat pages, where the quota's time zone is known. */
export function ChatErrorNotice({ error }: { error: unknown }) {
  const { t } = useI18n();
  const { quota } = useAppState();
  if (!error) return null;
  return (
    <p role="alert" className="error">
      {describeError(error, t, quota)}
    </p>
  );
}
