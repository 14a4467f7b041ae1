/**
 * "My usage" (`#/my-usage`), for every member: today against the daily allowance, the monthly token
 * budget where one applies, and the last 30 days (by=day&member=me). Loaded, with its charts, when opened.
 */
import { useEffect, useMemo } from "react";
import * as appApi from "../api";
import { formatResetTime } from "../i18n";
import { usage } from "./api";
import { DayChart, PALETTE } from "./Chart";
import { Figure, Loading, Meter, UsageError, useLoad } from "./common";
import { addDays, daysBetween, perDay, today } from "./data";
import { formatNumber, useUsageI18n } from "./strings";
import "./usage.css";

export default function MyUsagePage() {
  const { lang, t } = useUsageI18n();
  // Fresh figures on each visit (the sidebar's may be a while old).
  const quota = useLoad(() => appApi.quota(), []);
  const timeZone = quota.data?.time_zone;
  const to = today(timeZone);
  const from = addDays(to, -29);
  // The days are the quota's (its time zone): the history waits for it (or for it to fail).
  const settled = !quota.loading;
  const history = useLoad(() => (settled ? usage({ from, to, by: "day", member: "me" }) : new Promise<never>(() => {})), [from, to, settled]);
  const days = useMemo(() => daysBetween(from, to), [from, to]);
  const series = useMemo(() => {
    const rows = history.data?.rows ?? [];
    return {
      requests: [
        { label: t("requests"), color: PALETTE[0], values: perDay(rows, days, "requests") },
        { label: t("refused"), color: PALETTE[4], values: perDay(rows, days, "refused") },
      ],
      tokens: [
        { label: t("promptTokens"), color: PALETTE[1], values: perDay(rows, days, "prompt_tokens") },
        { label: t("completionTokens"), color: PALETTE[0], values: perDay(rows, days, "completion_tokens") },
      ],
    };
  }, [history.data, days, t]);
  useEffect(() => {
    document.title = `${t("myUsage")} · haruchat`;
  }, [t]);

  const q = quota.data;
  const totals = history.data?.totals;
  const used30 = totals ? totals.requests + totals.refused + totals.failed : 0;
  const sourceNote = q
    ? q.source === "member"
      ? t("allowanceSourceMember")
      : q.source === "group"
        ? t("allowanceSourceGroup", { group: q.group?.name ?? "" })
        : t("allowanceSourceDefault")
    : "";
  const dateFormat = new Intl.DateTimeFormat(lang === "ko" ? "ko-KR" : "en-GB", { dateStyle: "medium", timeZone });

  return (
    <section className="page wide usage-page">
      <h1>{t("myUsage")}</h1>
      <p className="muted">{t("myUsageIntro")}</p>

      {quota.loading && !q && <Loading />}
      <UsageError error={quota.error} onRetry={quota.reload} />
      {q && (
        <div className="usage-cards">
          <section className="panel usage-card" aria-labelledby="usage-today">
            <h2 id="usage-today">{t("today")}</h2>
            <p className="usage-big">
              <strong>{formatNumber(lang, q.used)}</strong> <span className="muted">/ {formatNumber(lang, q.limit)}</span>
            </p>
            <Meter used={q.used} limit={q.limit} label={t("todayUsed", { used: q.used, limit: q.limit })} />
            <p className="small">
              {t("todayUsed", { used: formatNumber(lang, q.used), limit: formatNumber(lang, q.limit) })} ·{" "}
              {t("remaining", { remaining: formatNumber(lang, q.remaining) })}
            </p>
            <p className="muted small">{t("resetsAt", { time: formatResetTime(q.resets_at, q.time_zone), zone: q.time_zone })}</p>
          </section>
          <section className="panel usage-card" aria-labelledby="usage-allowance">
            <h2 id="usage-allowance">{t("allowance")}</h2>
            <p className="usage-big">
              <strong>{t("allowanceValue", { limit: formatNumber(lang, q.limit) })}</strong>
            </p>
            <p className="muted small">{sourceNote}</p>
          </section>
          <section className="panel usage-card" aria-labelledby="usage-budget">
            <h2 id="usage-budget">{t("tokenBudget")}</h2>
            {q.tokens ? (
              <>
                <p className="usage-big">
                  <strong>{formatNumber(lang, q.tokens.used)}</strong>{" "}
                  <span className="muted">/ {formatNumber(lang, q.tokens.limit)}</span>
                </p>
                <Meter
                  used={q.tokens.used + q.tokens.reserved}
                  limit={q.tokens.limit}
                  label={t("tokenBudgetUsed", { used: q.tokens.used, limit: q.tokens.limit })}
                />
                <p className="small">
                  {t("tokenBudgetUsed", { used: formatNumber(lang, q.tokens.used), limit: formatNumber(lang, q.tokens.limit) })} ·{" "}
                  {t("tokensRemaining", { remaining: formatNumber(lang, q.tokens.remaining) })}
                </p>
                {q.tokens.reserved > 0 && (
                  <p className="muted small">{t("tokenBudgetReserved", { reserved: formatNumber(lang, q.tokens.reserved) })}</p>
                )}
                <p className="muted small">
                  {t("tokenBudgetResets", { date: dateFormat.format(new Date(q.tokens.resets_at)) })}
                  {q.tokens.group ? ` · ${q.tokens.group.name}` : ""}
                </p>
              </>
            ) : (
              <p className="muted">{t("noTokenBudget")}</p>
            )}
          </section>
        </div>
      )}

      <h2 className="usage-section-title">{t("last30Days")}</h2>
      {history.loading && !history.data && <Loading />}
      <UsageError error={history.error} onRetry={history.reload} />
      {totals && (
        <>
          <dl className="usage-figures">
            <Figure label="requests" value={totals.requests} />
            <Figure label="tokens" value={totals.prompt_tokens + totals.completion_tokens} />
            <Figure label="refused" value={totals.refused} />
            <Figure label="failed" value={totals.failed} />
          </dl>
          {used30 === 0 ? (
            <p className="empty usage-empty">{t("emptyMine")}</p>
          ) : (
            <>
              <DayChart title={t("requestsPerDay")} days={days} series={series.requests} stacked />
              <DayChart title={t("yourTokensPerDay")} days={days} series={series.tokens} stacked />
            </>
          )}
        </>
      )}
    </section>
  );
}
