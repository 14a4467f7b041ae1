/**
 * The operators' usage dashboard (`#/usage`), for groups' operators and admins: a date range and a group,
 * then requests per day stacked by model, tokens per day, the members who use most, how often the limit
 * was hit, failures, and the same report as a CSV file. Loaded (with its charts) only when opened.
 *
 * The API groups by one dimension at a time, so the page asks for: by=day (the totals per day), by=model
 * (which models, most used first), by=member&limit=10 (the top ten), and then by=day&model=X for the five most
 * used models only; whatever the rest did is the day's total less those five ("other models"). With a
 * single model no per-model call is needed. That is 3 to 8 small requests, all but the last ones at once,
 * each answered from the daily roll-up.
 */
import { useId, useMemo, useState } from "react";
import { useSearchParams } from "react-router";
import { api, canOperate, quota as appQuota, type Me } from "../api";
import { useAppState } from "../state";
import { downloadUsageCsv, usage, type UsageBy, type UsageReport, type UsageRow } from "./api";
import { DayChart, PALETTE, type ChartSeries } from "./Chart";
import { Figure, Loading, UsageError, useLoad } from "./common";
import { addDays, chartedModels, daysBetween, isDay, perDay, today, topMembers, validRange } from "./data";
import { formatNumber, useUsageI18n } from "./strings";
import "./usage.css";

interface GroupChoice {
  id: number;
  name: string;
}

interface DashboardData {
  daily: UsageReport;
  members: UsageRow[];
  models: { model: string; rows: UsageRow[] }[];
  single: string | null;
  rest: boolean;
}

/** The members the page lists; the server sends only these, not every member of a large school. */
const TOP_MEMBERS = 10;

const PRESETS = [
  { days: 7, key: "last7" },
  { days: 30, key: "last30" },
  { days: 90, key: "last90" },
] as const;

async function loadDashboard(from: string, to: string, group: number | null): Promise<DashboardData> {
  const base = { from, to, group };
  const [daily, byModel, byMember] = await Promise.all([
    usage({ ...base, by: "day" }),
    usage({ ...base, by: "model" }),
    usage({ ...base, by: "member", limit: TOP_MEMBERS }),
  ]);
  const { shown, rest } = chartedModels(byModel.rows);
  const single = shown.length === 1 && !rest ? shown[0] : null;
  const models = single
    ? [{ model: single, rows: daily.rows }]
    : await Promise.all(shown.map(async (model) => ({ model, rows: (await usage({ ...base, by: "day", model })).rows })));
  return { daily, members: topMembers(byMember.rows, TOP_MEMBERS), models, single, rest };
}

export default function UsageDashboard() {
  const { t } = useUsageI18n();
  const { me } = useAppState();
  // The report's days are counted in the quota's time zone, so "today" is taken from it (or the browser's).
  const quota = useLoad(() => appQuota(), []);
  if (!me || quota.loading) {
    return (
      <section className="page wide usage-page">
        <Loading />
      </section>
    );
  }
  if (!canOperate(me)) {
    return (
      <section className="page usage-page">
        <h1>{t("dashboard")}</h1>
        <p className="notice">{t("notAllowed")}</p>
      </section>
    );
  }
  return <Dashboard me={me} timeZone={quota.data?.time_zone} />;
}

function Dashboard({ me, timeZone }: { me: Me; timeZone?: string }) {
  const { lang, t } = useUsageI18n();
  const [params, setParams] = useSearchParams();
  const now = today(timeZone);
  const to = isDay(params.get("to")) ? params.get("to")! : now;
  const from = isDay(params.get("from")) ? params.get("from")! : addDays(to, -29);
  const group = Number(params.get("group")) > 0 ? Number(params.get("group")) : null;
  const [draft, setDraft] = useState<{ from: string; to: string } | null>(null);
  const shownFrom = draft?.from ?? from;
  const shownTo = draft?.to ?? to;
  const ids = useId();
  const [csvBy, setCsvBy] = useState<UsageBy>("day");
  const [downloading, setDownloading] = useState(false);
  const [csvError, setCsvError] = useState<unknown>(null);

  const groups = useLoad<GroupChoice[]>(
    () => (me.is_admin ? api<GroupChoice[]>("/api/groups") : Promise.resolve(me.operates ?? [])),
    [me],
  );
  const report = useLoad(() => loadDashboard(from, to, group), [from, to, group]);

  function update(next: { from?: string; to?: string; group?: number | null }) {
    const merged = { from, to, group, ...next };
    const search = new URLSearchParams({ from: merged.from, to: merged.to });
    if (merged.group != null) search.set("group", String(merged.group));
    setParams(search, { replace: true });
  }

  function changeDate(field: "from" | "to", value: string) {
    const next = { from: shownFrom, to: shownTo, [field]: value };
    if (validRange(next.from, next.to)) {
      setDraft(null);
      update(next);
    } else {
      setDraft(next);
    }
  }

  async function download() {
    setDownloading(true);
    setCsvError(null);
    try {
      await downloadUsageCsv({ from, to, group, by: csvBy });
    } catch (caught) {
      setCsvError(caught);
    } finally {
      setDownloading(false);
    }
  }

  const days = useMemo(() => daysBetween(from, to), [from, to]);
  const charts = useMemo(() => {
    const data = report.data;
    if (!data) return null;
    const totalRequests = perDay(data.daily.rows, days, "requests");
    const modelSeries: ChartSeries[] = data.models.map(({ model, rows }, i) => ({
      label: model,
      color: PALETTE[i % (PALETTE.length - 1)],
      values: perDay(rows, days, "requests"),
    }));
    if (data.rest) {
      const other = totalRequests.map((total, i) => Math.max(0, total - modelSeries.reduce((s, m) => s + m.values[i], 0)));
      modelSeries.push({ label: t("other"), color: PALETTE[PALETTE.length - 1], values: other });
    }
    if (modelSeries.length === 0) modelSeries.push({ label: t("requests"), color: PALETTE[0], values: totalRequests });
    return {
      requests: modelSeries,
      tokens: [
        { label: t("promptTokens"), color: PALETTE[1], values: perDay(data.daily.rows, days, "prompt_tokens") },
        { label: t("completionTokens"), color: PALETTE[0], values: perDay(data.daily.rows, days, "completion_tokens") },
      ],
      refused: [{ label: t("refused"), color: PALETTE[4], values: perDay(data.daily.rows, days, "refused") }],
      failed: [{ label: t("failed"), color: "#b42318", values: perDay(data.daily.rows, days, "failed") }],
    };
  }, [report.data, days, t]);

  const totals = report.data?.daily.totals;
  const empty = totals && totals.requests + totals.refused + totals.failed === 0;
  const groupName = group === null ? null : (groups.data?.find((g) => g.id === group)?.name ?? `#${group}`);
  const maxRequests = Math.max(1, ...(report.data?.members.map((m) => m.requests) ?? [0]));

  return (
    <section className="page wide usage-page">
      <h1>{t("dashboard")}</h1>
      <p className="muted">{t("dashboardIntro")}</p>

      <form className="panel usage-filters" aria-label={t("filters")} onSubmit={(e) => e.preventDefault()}>
        <div className="usage-filter-fields">
          <div className="field">
            <label htmlFor={`${ids}-from`}>{t("from")}</label>
            <input id={`${ids}-from`} type="date" value={shownFrom} max={shownTo} onChange={(e) => changeDate("from", e.target.value)} />
          </div>
          <div className="field">
            <label htmlFor={`${ids}-to`}>{t("to")}</label>
            <input id={`${ids}-to`} type="date" value={shownTo} min={shownFrom} onChange={(e) => changeDate("to", e.target.value)} />
          </div>
          <div className="field">
            <label htmlFor={`${ids}-group`}>{t("group")}</label>
            <select
              id={`${ids}-group`}
              value={group ?? ""}
              onChange={(e) => update({ group: e.target.value ? Number(e.target.value) : null })}
              disabled={!groups.data}
            >
              <option value="">{me.is_admin ? t("allGroups") : t("allMyGroups")}</option>
              {groups.data?.map((g) => (
                <option key={g.id} value={g.id}>
                  {g.name}
                </option>
              ))}
              {group !== null && groups.data && !groups.data.some((g) => g.id === group) && (
                <option value={group}>{groupName}</option>
              )}
            </select>
          </div>
        </div>
        <div className="row usage-presets" role="group" aria-label={t("filters")}>
          {PRESETS.map(({ days: n, key }) => {
            const presetFrom = addDays(now, -(n - 1));
            return (
              <button
                key={key}
                type="button"
                aria-pressed={from === presetFrom && to === now}
                onClick={() => {
                  setDraft(null);
                  update({ from: presetFrom, to: now });
                }}
              >
                {t(key)}
              </button>
            );
          })}
        </div>
        {draft && (
          <p role="alert" className="error">
            {t("badRange")}
          </p>
        )}
        <UsageError error={groups.error} />
      </form>

      {report.loading && !report.data && <Loading />}
      <UsageError error={report.error} onRetry={report.reload} />

      {report.data && totals && charts && (
        <div className={report.loading ? "usage-body stale" : "usage-body"} aria-busy={report.loading}>
          <dl className="usage-figures">
            <Figure label="requests" value={totals.requests} />
            <Figure label="tokens" value={totals.prompt_tokens + totals.completion_tokens} />
            <Figure label="activeMembers" value={totals.active_members} />
            <Figure label="refused" value={totals.refused} />
            <Figure label="failed" value={totals.failed} />
          </dl>
          {empty ? (
            <p className="empty usage-empty">{t("empty")}</p>
          ) : (
            <>
              <DayChart title={t("requestsByModel")} days={days} series={charts.requests} stacked />
              <DayChart title={t("tokensPerDay")} days={days} series={charts.tokens} stacked />
              <div className="usage-pair">
                <DayChart title={t("refusedPerDay")} days={days} series={charts.refused} />
                <DayChart title={t("failedPerDay")} days={days} series={charts.failed} />
              </div>
              <section className="panel usage-members" aria-labelledby="top-members">
                <h2 id="top-members">{t("topMembers")}</h2>
                <p className="muted small">{t("topMembersNote", { count: TOP_MEMBERS })}</p>
                {report.data.members.length === 0 ? (
                  <p className="muted">{t("noMembers")}</p>
                ) : (
                  <table className="data-table">
                    <thead>
                      <tr>
                        <th scope="col">{t("member")}</th>
                        <th scope="col">{t("requests")}</th>
                        <th scope="col">{t("tokens")}</th>
                        <th scope="col">{t("refused")}</th>
                        <th scope="col">{t("failed")}</th>
                      </tr>
                    </thead>
                    <tbody>
                      {report.data.members.map((row) => (
                        <tr key={row.member?.id}>
                          <th scope="row" className="who">
                            <span>{row.member?.nickname}</span>
                            <span className="muted small">{row.member?.email}</span>
                          </th>
                          <td data-label={t("requests")} className="usage-count">
                            <span className="count-bar" aria-hidden="true">
                              <span style={{ width: `${(row.requests / maxRequests) * 100}%` }} />
                            </span>
                            {formatNumber(lang, row.requests)}
                          </td>
                          <td data-label={t("tokens")} className="usage-count">
                            {formatNumber(lang, row.prompt_tokens + row.completion_tokens)}
                          </td>
                          <td data-label={t("refused")} className="usage-count">
                            {formatNumber(lang, row.refused)}
                          </td>
                          <td data-label={t("failed")} className="usage-count">
                            {formatNumber(lang, row.failed)}
                          </td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                )}
              </section>
            </>
          )}
        </div>
      )}

      <section className="panel usage-csv" aria-labelledby="usage-csv">
        <h2 id="usage-csv" className="visually-hidden">
          {t("downloadCsv")}
        </h2>
        <div className="row">
          <span className="inline-field">
            <label htmlFor={`${ids}-csv`}>{t("csvRows")}</label>
            <select id={`${ids}-csv`} value={csvBy} onChange={(e) => setCsvBy(e.target.value as UsageBy)}>
              <option value="day">{t("byDay")}</option>
              <option value="member">{t("byMember")}</option>
              <option value="group">{t("byGroup")}</option>
              <option value="model">{t("byModel")}</option>
              <option value="assistant">{t("byAssistant")}</option>
              <option value="source">{t("bySource")}</option>
            </select>
          </span>
          <button type="button" onClick={download} disabled={downloading || Boolean(draft)}>
            {downloading ? t("downloading") : t("downloadCsv")}
          </button>
        </div>
        <UsageError error={csvError} />
      </section>
    </section>
  );
}
