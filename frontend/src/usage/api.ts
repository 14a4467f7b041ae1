/** The usage pages' API calls: GET /api/usage as JSON, or the same query as a CSV file. */
import { api } from "../api";
import { saveDownload } from "../download";
import type { components } from "../api/schema";

type Schemas = components["schemas"];

export type UsageBy = "day" | "member" | "group" | "model" | "assistant" | "source";

/** The member and group of a row are free-form dicts in the schema; their keys are written out here. */
export type UsageRow = Omit<Schemas["UsageRow"], "member" | "group"> & {
  member?: { id: number; email: string | null; nickname: string };
  group?: { id: number; name: string };
};
export type UsageReport = Omit<Schemas["UsageReport"], "rows" | "totals"> & {
  from?: string;
  to?: string;
  rows: UsageRow[];
  totals: UsageRow;
};

export interface UsageQuery {
  from: string;
  to: string;
  by: UsageBy;
  group?: number | null;
  member?: number | "me";
  model?: string;
  source?: "web" | "gateway";
  /** Only this many rows, the most requests first (the totals still cover every row). */
  limit?: number;
}

export function usagePath(query: UsageQuery, format: "json" | "csv" = "json"): string {
  const params = new URLSearchParams({ from: query.from, to: query.to, by: query.by });
  if (query.group != null) params.set("group", String(query.group));
  if (query.member != null) params.set("member", String(query.member));
  if (query.model != null) params.set("model", query.model);
  if (query.source) params.set("source", query.source);
  if (query.limit != null) params.set("limit", String(query.limit));
  if (format === "csv") params.set("format", "csv");
  return `/api/usage?${params}`;
}

export const usage = (query: UsageQuery) => api<UsageReport>(usagePath(query));

/** The same query as a CSV file, saved. */
export function downloadUsageCsv(query: UsageQuery): Promise<void> {
  return saveDownload(usagePath(query, "csv"), `haruchat-usage-${query.by}-${query.from}-${query.to}.csv`);
}
