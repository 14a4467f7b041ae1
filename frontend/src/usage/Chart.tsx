/**
 * A bar chart of values per day (stacked when asked), with its numbers in words and as a table for
 * those who can't see it. The drawing (uPlot) is loaded on first use; without a canvas (tests, very
 * old browsers) the words, legend and table still say everything.
 */
import { useEffect, useId, useRef, useState } from "react";
import { useResolvedTheme } from "../components/theme";
import type { Drawn } from "./draw";
import { sum } from "./data";
import { formatCompact, formatDay, formatNumber, formatShortDay, useUsageI18n } from "./strings";

export interface ChartSeries {
  label: string;
  color: string;
  values: number[];
}

/** Colours that tell apart on light and dark backgrounds (and in grey, by their lightness). */
export const PALETTE = ["#d9622b", "#2563eb", "#16a34a", "#9333ea", "#ca8a04", "#0891b2", "#8b95a5"];

const canDraw = () => typeof window.matchMedia === "function" && typeof ResizeObserver === "function";

export function DayChart({
  title,
  days,
  series,
  stacked = false,
}: {
  title: string;
  days: string[];
  series: ChartSeries[];
  stacked?: boolean;
}) {
  const { lang, t } = useUsageI18n();
  const titleId = useId();
  const canvas = useRef<HTMLDivElement>(null);
  const [hover, setHover] = useState<number | null>(null);
  // The axes and grid take the theme's colours when drawn: a new theme draws the chart again.
  const theme = useResolvedTheme();
  const totals = days.map((_, i) => sum(series.map((s) => s.values[i] ?? 0)));
  const total = sum(totals);
  const busiest = totals.indexOf(Math.max(...totals));
  const summary =
    total === 0
      ? t("chartSummaryNone", { days: days.length })
      : t("chartSummary", {
          total: formatNumber(lang, total),
          days: days.length,
          day: formatDay(lang, days[busiest]),
          most: formatNumber(lang, totals[busiest]),
        });

  useEffect(() => {
    const target = canvas.current;
    if (!target || !canDraw() || days.length === 0) return;
    let drawn: Drawn | null = null;
    let gone = false;
    const height = () => (target.clientWidth < 480 ? 170 : 220);
    const observer = new ResizeObserver(() => drawn?.resize(target.clientWidth, height()));
    import("./draw").then(
      ({ draw }) => {
        if (gone) return;
        drawn = draw(target, {
          days,
          series,
          stacked,
          width: target.clientWidth,
          height: height(),
          formatX: (day) => formatShortDay(lang, day),
          formatY: (n) => formatCompact(lang, n),
          onHover: setHover,
        });
        observer.observe(target);
      },
      () => undefined, // no chart: the words and the table remain
    );
    return () => {
      gone = true;
      observer.disconnect();
      drawn?.destroy();
    };
  }, [days, series, stacked, lang, theme]);

  const hovered = hover !== null && hover >= 0 && hover < days.length ? hover : null;
  return (
    <figure className="usage-chart panel" aria-labelledby={titleId}>
      <figcaption>
        <h2 id={titleId}>{title}</h2>
        <p className="muted small">{summary}</p>
      </figcaption>
      <div className="chart-legend small" aria-hidden="true">
        <span className="chart-legend-day">{hovered !== null ? formatDay(lang, days[hovered], true) : t("total")}</span>
        {series.map((s) => (
          <span key={s.label} className="chart-legend-item">
            <span className="swatch" style={{ background: s.color }} />
            <span className="chart-legend-label">{s.label}</span>
            <strong>{formatNumber(lang, hovered !== null ? s.values[hovered] : sum(s.values))}</strong>
          </span>
        ))}
      </div>
      <div className="chart-canvas" ref={canvas} aria-hidden="true" onMouseLeave={() => setHover(null)} />
      <details className="chart-table">
        <summary>{t("showTable")}</summary>
        <div className="table-scroll">
          <table>
            <caption className="visually-hidden">{title}</caption>
            <thead>
              <tr>
                <th scope="col">{t("day")}</th>
                {series.map((s) => (
                  <th scope="col" key={s.label}>
                    {s.label}
                  </th>
                ))}
                {series.length > 1 && <th scope="col">{t("total")}</th>}
              </tr>
            </thead>
            <tbody>
              {days.map((day, i) => (
                <tr key={day}>
                  <th scope="row">{formatDay(lang, day, true)}</th>
                  {series.map((s) => (
                    <td key={s.label}>{formatNumber(lang, s.values[i])}</td>
                  ))}
                  {series.length > 1 && <td>{formatNumber(lang, totals[i])}</td>}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </figure>
  );
}
