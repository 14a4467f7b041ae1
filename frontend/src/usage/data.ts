/** Pure helpers for the usage pages: days as YYYY-MM-DD, rows laid out per day, the busiest members. */
import type { UsageRow } from "./api";

const DAY_MS = 86_400_000;
export const MAX_DAYS = 366;

/** Today in the quota's time zone (the server counts days there), else in the browser's. */
export function today(timeZone?: string | null, now = new Date()): string {
  try {
    return new Intl.DateTimeFormat("en-CA", { timeZone: timeZone ?? undefined, year: "numeric", month: "2-digit", day: "2-digit" }).format(now);
  } catch {
    return new Intl.DateTimeFormat("en-CA", { year: "numeric", month: "2-digit", day: "2-digit" }).format(now);
  }
}

export function addDays(day: string, days: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
}

export const isDay = (value: string | null | undefined): value is string =>
  Boolean(value && /^\d{4}-\d{2}-\d{2}$/.test(value) && !Number.isNaN(Date.parse(`${value}T00:00:00Z`)));

/** Every day from `from` to `to`, both included. */
export function daysBetween(from: string, to: string): string[] {
  const days: string[] = [];
  for (let day = from; day <= to && days.length <= MAX_DAYS; day = addDays(day, 1)) days.push(day);
  return days;
}

/** A range the API takes: from ≤ to, at most 366 days. */
export function validRange(from: string, to: string): boolean {
  return isDay(from) && isDay(to) && from <= to && daysBetween(from, to).length <= MAX_DAYS;
}

export type Metric = "requests" | "refused" | "failed" | "prompt_tokens" | "completion_tokens";

/** One value per day for a metric of by=day rows; a day without a row is 0. */
export function perDay(rows: UsageRow[], days: string[], metric: Metric): number[] {
  const byDay = new Map(rows.map((row) => [row.day, row[metric]]));
  return days.map((day) => byDay.get(day) ?? 0);
}

/** The members who made most requests, most first (ties by email), at most `count`. */
export function topMembers(rows: UsageRow[], count = 10): UsageRow[] {
  return rows
    .filter((row) => row.requests > 0 || row.refused > 0 || row.failed > 0)
    .sort((a, b) => b.requests - a.requests || (a.member?.email ?? "").localeCompare(b.member?.email ?? ""))
    .slice(0, count);
}

/** The models to draw one by one (most requests first); the rest go together as "other". */
export function chartedModels(rows: UsageRow[], count = 5): { shown: string[]; rest: boolean } {
  const used = rows.filter((row) => row.requests > 0 && row.model != null).sort((a, b) => b.requests - a.requests);
  if (used.length <= count + 1) return { shown: used.map((row) => row.model!), rest: false };
  return { shown: used.slice(0, count).map((row) => row.model!), rest: true };
}

export const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
