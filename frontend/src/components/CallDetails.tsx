import { useEffect, useRef, useState } from "react";
import * as api from "../api";
import { useI18n } from "../i18n";
import { ErrorNotice } from "./ErrorNotice";

/** The record of one model call: settings, tokens, and the exact request and response JSON. */
export function CallDetails({
  conversationId,
  completionId,
  onClose,
}: {
  conversationId: number;
  completionId: number;
  onClose: () => void;
}) {
  const { t } = useI18n();
  const dialog = useRef<HTMLDialogElement>(null);
  const [call, setCall] = useState<api.Completion | null>(null);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    dialog.current?.showModal?.();
    api.completions(conversationId).then((calls) => setCall(calls.find((c) => c.id === completionId) ?? null), setError);
  }, [conversationId, completionId]);

  const request = call?.request ?? {};
  const usage = (call?.response?.usage ?? {}) as Record<string, number>;
  const replaced = call?.characters_replaced ?? 0;

  return (
    <dialog ref={dialog} className="call-details" onClose={onClose} aria-labelledby="call-details-title">
      <h2 id="call-details-title">{t("callDetails")}</h2>
      <ErrorNotice error={error} />
      {call && (
        <>
          <dl>
            <dt>{t("model")}</dt>
            <dd>{String(request.model ?? "")}</dd>
            <dt>{t("temperature")}</dt>
            <dd>{String(request.temperature ?? "—")}</dd>
            <dt>{t("tokens")}</dt>
            <dd>
              {usage.prompt_tokens ?? "—"} + {usage.completion_tokens ?? "—"} = {usage.total_tokens ?? "—"}
              {call.usage_counted && ` ${t("usageCounted")}`}
            </dd>
            <dt>{t("latency")}</dt>
            <dd>{call.latency_ms ?? "—"} ms</dd>
            <dt>{t("status")}</dt>
            <dd>{call.status}</dd>
            {replaced > 0 && (
              <>
                <dt>{t("charactersReplaced")}</dt>
                <dd>{t("charactersReplacedNote", { count: replaced })}</dd>
              </>
            )}
          </dl>
          <h3>{t("request")}</h3>
          <pre data-testid="request-json">{JSON.stringify(call.request, null, 2)}</pre>
          <h3>{t("response")}</h3>
          <pre data-testid="response-json">{JSON.stringify(call.response, null, 2)}</pre>
        </>
      )}
      <form method="dialog">
        <button type="submit" autoFocus>
          {t("close")}
        </button>
      </form>
    </dialog>
  );
}
