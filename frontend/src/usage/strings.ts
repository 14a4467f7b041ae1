/** The usage pages' words, Korean and English; loaded with those pages, so the chat pages don't carry them. */
import { useMemo } from "react";
import { useI18n, type Lang } from "../i18n";

const en = {
  dashboard: "Usage",
  dashboardIntro: "Requests, tokens, refusals and failures of the members you look after.",
  myUsage: "My usage",
  myUsageIntro: "What you have used today and over the last 30 days.",
  notAllowed: "This page is for groups' operators and admins.",
  filters: "Report",
  from: "From",
  to: "To",
  group: "Group",
  allGroups: "All groups",
  allMyGroups: "All my groups",
  last7: "7 days",
  last30: "30 days",
  last90: "90 days",
  badRange: "The start must not be after the end, and a report covers at most 366 days.",
  loading: "Loading…",
  retry: "Try again",
  empty: "No usage in this period.",
  emptyMine: "You have not used haruchat in the last 30 days.",
  errServer: "The server had a problem. Try again in a moment.",
  errOffline: "The server can't be reached. Check the connection and try again.",
  errNotFound: "No such group, or it isn't yours to look at.",
  errGeneric: "Something went wrong: {detail}",
  requests: "Requests",
  refused: "Limit reached",
  failed: "Failures",
  tokens: "Tokens",
  promptTokens: "Prompt tokens",
  completionTokens: "Completion tokens",
  activeMembers: "Active members",
  requestsByModel: "Requests per day, by model",
  tokensPerDay: "Tokens per day",
  refusedPerDay: "Requests refused because the limit was reached, per day",
  failedPerDay: "Failed calls per day",
  topMembers: "Members who use most",
  topMembersNote: "The top {count} by requests.",
  noMembers: "No member made a request in this period.",
  member: "Member",
  day: "Day",
  total: "Total",
  other: "Other models",
  showTable: "Show as a table",
  chartSummary: "{total} in all over {days} days; the busiest day was {day} with {most}.",
  chartSummaryNone: "None over {days} days.",
  downloadCsv: "Download CSV",
  csvRows: "Rows by",
  byDay: "day",
  byMember: "member",
  byGroup: "group",
  byModel: "model",
  byAssistant: "assistant",
  bySource: "source",
  downloading: "Downloading…",
  today: "Today",
  todayUsed: "{used} of {limit} requests used",
  remaining: "{remaining} left",
  resetsAt: "Resets at {time} ({zone})",
  allowance: "Daily allowance",
  allowanceValue: "{limit} requests a day",
  allowanceSourceMember: "set for you",
  allowanceSourceGroup: "from {group}",
  allowanceSourceDefault: "the default",
  tokenBudget: "Monthly token budget",
  tokenBudgetUsed: "{used} of {limit} tokens used",
  tokensRemaining: "{remaining} left",
  tokenBudgetReserved: "{reserved} held for answers in progress",
  tokenBudgetResets: "Resets on {date}",
  noTokenBudget: "No monthly token budget applies to you.",
  last30Days: "Last 30 days",
  requestsPerDay: "Your requests per day",
  yourTokensPerDay: "Your tokens per day",
  dashboardLink: "Usage",
  myUsageLink: "My usage",
  seeMyUsage: "See my usage",
};

export type UsageKey = keyof typeof en;

const ko: Record<UsageKey, string> = {
  dashboard: "사용량",
  dashboardIntro: "맡은 멤버들의 요청, 토큰, 한도 초과와 실패.",
  myUsage: "내 사용량",
  myUsageIntro: "오늘과 최근 30일 동안 사용한 양입니다.",
  notAllowed: "그룹 운영자와 관리자만 볼 수 있는 페이지입니다.",
  filters: "보고서",
  from: "시작일",
  to: "종료일",
  group: "그룹",
  allGroups: "모든 그룹",
  allMyGroups: "내 모든 그룹",
  last7: "7일",
  last30: "30일",
  last90: "90일",
  badRange: "시작일은 종료일보다 늦을 수 없고, 보고서는 최대 366일까지 볼 수 있습니다.",
  loading: "불러오는 중…",
  retry: "다시 시도",
  empty: "이 기간에는 사용 기록이 없습니다.",
  emptyMine: "최근 30일 동안 haruchat을 사용하지 않았습니다.",
  errServer: "서버에 문제가 생겼습니다. 잠시 후 다시 시도하세요.",
  errOffline: "서버에 연결할 수 없습니다. 연결을 확인하고 다시 시도하세요.",
  errNotFound: "없는 그룹이거나 볼 권한이 없는 그룹입니다.",
  errGeneric: "문제가 생겼습니다: {detail}",
  requests: "요청",
  refused: "한도 초과",
  failed: "실패",
  tokens: "토큰",
  promptTokens: "입력 토큰",
  completionTokens: "출력 토큰",
  activeMembers: "활동 멤버",
  requestsByModel: "일별 요청 (모델별)",
  tokensPerDay: "일별 토큰",
  refusedPerDay: "한도에 걸려 거절된 일별 요청",
  failedPerDay: "일별 실패한 호출",
  topMembers: "가장 많이 쓰는 멤버",
  topMembersNote: "요청 수 상위 {count}명.",
  noMembers: "이 기간에 요청한 멤버가 없습니다.",
  member: "멤버",
  day: "날짜",
  total: "합계",
  other: "기타 모델",
  showTable: "표로 보기",
  chartSummary: "{days}일 동안 모두 {total}, 가장 많은 날은 {day} ({most}).",
  chartSummaryNone: "{days}일 동안 없음.",
  downloadCsv: "CSV 내려받기",
  csvRows: "행 기준",
  byDay: "날짜",
  byMember: "멤버",
  byGroup: "그룹",
  byModel: "모델",
  byAssistant: "어시스턴트",
  bySource: "경로",
  downloading: "내려받는 중…",
  today: "오늘",
  todayUsed: "{limit}회 중 {used}회 사용",
  remaining: "{remaining}회 남음",
  resetsAt: "{time}에 초기화 ({zone})",
  allowance: "하루 사용량",
  allowanceValue: "하루 {limit}회",
  allowanceSourceMember: "개인 설정",
  allowanceSourceGroup: "{group} 그룹 설정",
  allowanceSourceDefault: "기본값",
  tokenBudget: "월 토큰 한도",
  tokenBudgetUsed: "{limit} 토큰 중 {used} 사용",
  tokensRemaining: "{remaining} 남음",
  tokenBudgetReserved: "진행 중인 답변에 {reserved} 예약됨",
  tokenBudgetResets: "{date}에 초기화",
  noTokenBudget: "적용되는 월 토큰 한도가 없습니다.",
  last30Days: "최근 30일",
  requestsPerDay: "일별 내 요청",
  yourTokensPerDay: "일별 내 토큰",
  dashboardLink: "사용량",
  myUsageLink: "내 사용량",
  seeMyUsage: "내 사용량 보기",
};

const dictionaries: Record<Lang, Record<UsageKey, string>> = { en, ko };

export function translate(lang: Lang, key: UsageKey, values: Record<string, string | number> = {}): string {
  return dictionaries[lang][key].replace(/\{(\w+)\}/g, (_, name: string) => String(values[name] ?? `{${name}}`));
}

export type UsageT = (key: UsageKey, values?: Record<string, string | number>) => string;

export function useUsageI18n(): { lang: Lang; t: UsageT } {
  const { lang } = useI18n();
  return useMemo(() => ({ lang, t: (key, values) => translate(lang, key, values) }), [lang]);
}

const locale = (lang: Lang) => (lang === "ko" ? "ko-KR" : "en-US");

export const formatNumber = (lang: Lang, n: number): string => new Intl.NumberFormat(locale(lang)).format(n);

/** 12,345 → 12K (axis labels, where room is short). */
export const formatCompact = (lang: Lang, n: number): string =>
  new Intl.NumberFormat(locale(lang), { notation: "compact", maximumFractionDigits: 1 }).format(n);

/** A day (YYYY-MM-DD) as the reader writes it: "Nov 26" / "11월 26일" (with the year when asked). */
export function formatDay(lang: Lang, day: string, withYear = false): string {
  return new Intl.DateTimeFormat(locale(lang), {
    month: "short",
    day: "numeric",
    ...(withYear ? { year: "numeric" } : {}),
    timeZone: "UTC",
  }).format(new Date(`${day}T00:00:00Z`));
}

/** A day on a chart's axis, short: "11/26" / "11. 26.". */
export function formatShortDay(lang: Lang, day: string): string {
  return new Intl.DateTimeFormat(locale(lang), { month: "numeric", day: "numeric", timeZone: "UTC" }).format(new Date(`${day}T00:00:00Z`));
}
