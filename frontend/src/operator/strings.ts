/** The operator area's words, Korean and English; loaded with the area, so the chat pages don't carry them. */
import { useMemo } from "react";
import { translate as translateShared, useI18n, type Lang, type MessageKey } from "../i18n";

const en = {
  groups: "Groups",
  groupsIntro: "Classes, cohorts and teams: who may chat, how much, and with which models.",
  noGroups: "No groups yet.",
  noGroupsOperator: "You don't run any group yet.",
  createGroup: "Create a group",
  create: "Create",
  name: "Name",
  description: "Description",
  descriptionOptional: "Description (optional)",
  dailyLimit: "Daily requests per member",
  dailyLimitHelp: "Empty: the deployment's default applies.",
  monthlyBudget: "Monthly tokens per member",
  monthlyBudgetHelp: "Empty: no token budget.",
  membersCount: "{count} members",
  perDay: "{count} a day",
  defaultLimit: "default limit",
  tokensPerMonth: "{count} tokens a month",
  operatedBy: "Run by {names}",
  noOperators: "No operator yet",
  backToGroups: "← Groups",
  sections: "Group sections",
  members: "Members",
  invites: "Invites",
  import: "Import",
  settings: "Settings",
  member: "Member",
  role: "Role",
  roleMember: "Member",
  roleOperator: "Operator",
  today: "Today",
  todayOf: "{used} of {limit}",
  noLimit: "{used} (no limit)",
  tokensMonth: "Tokens this month",
  tokensOf: "{used} of {budget}",
  joinedAt: "Joined",
  actions: "Actions",
  noMembers: "No members yet. Add one by email, send an invite link, or import a CSV.",
  addMember: "Add a member",
  addMemberHelp: "Someone who already has an account here.",
  addMemberByInvite:
    "Someone who already has an account joins by their own choice: send them an invite link. New people can also be imported from a CSV file, which makes their accounts.",
  toInvites: "Create an invite link",
  toImport: "Import a CSV file",
  noMembersOperator: "No members yet. Send an invite link, or import a CSV.",
  add: "Add",
  removeMember: "Remove",
  removeMemberLabel: "Remove {name} from the group",
  confirmRemove: "Remove {name} from {group}? Their account and history stay.",
  memberAdded: "{name} is in the group.",
  errUnknownMember: "No account has this email. Send them an invite link, or import them from a CSV to create one.",
  newInvite: "New invite link",
  expiresAt: "Expires (optional)",
  maxUses: "Maximum uses (optional)",
  createInvite: "Create link",
  noInvites: "No live invite links.",
  inviteLink: "Invite link {code}",
  uses: "Used {uses} of {max}",
  usesUnlimited: "Used {uses} times, no maximum",
  expires: "Expires {date}",
  neverExpires: "Never expires",
  copy: "Copy",
  copyLink: "Copy link",
  copyLinkFor: "Copy link for {name}",
  copyInvite: "Copy link {code}",
  copied: "Copied.",
  copyFailed: "Copying did not work: select the link and copy it yourself.",
  revoke: "Revoke",
  revokeLabel: "Revoke invite {code}",
  confirmRevoke: "Revoke invite {code}? The link stops working now.",
  importTitle: "Import members from a CSV file",
  importHelp:
    "One member a line under the header email,nickname and an optional role (member or operator). New addresses get an account and a one-time link to set their password, shown here for you to hand out; no email is sent.",
  csvFile: "CSV file",
  check: "Check",
  runImport: "Import",
  checking: "Checking…",
  importing: "Importing…",
  dryRunSummary: "Check only, nothing changed: {created} would be created, {added} added, {skipped} skipped.",
  importSummary: "Imported: {created} created, {added} added, {skipped} skipped.",
  line: "Line",
  action: "Result",
  reason: "Why",
  setPasswordLink: "Set-password link",
  wouldCreate: "would be created",
  wouldAdd: "would be added",
  created: "created",
  added: "added",
  skipped: "skipped",
  copyAllLinks: "Copy all links",
  linksHelp: "Hand each new member their link: it sets their password once and then stops working.",
  save: "Save",
  saved: "Saved.",
  allowedModels: "Allowed models",
  allowedAssistants: "Allowed assistants",
  noneMeansAll: "None checked: all are allowed.",
  operators: "Operators",
  operatorsHelp: "Members of this group who run it.",
  operatorsNeedMembers: "Add members first; an operator is chosen among them.",
  dangerZone: "Delete the group",
  deleteGroup: "Delete group",
  confirmDeleteGroup: "Delete {group}? Its members keep their accounts and history, but leave the group.",
  notAllowed: "This area is for groups' operators and admins.",
  notFound: "No such group, or it isn't yours to run.",
  retry: "Try again",
  sourceMember: "own limit",
  sourceGroup: "group limit",
  sourceDefault: "default",
  err_offline: "The server can't be reached. Check the connection and try again.",
  errServer: "The server had a problem. Try again in a moment.",
  err_admin_only: "Only an admin may do this.",
  err_csv_too_large: "The file is too large (over 1 MiB).",
  err_csv_too_many_rows: "The file has too many rows (over 5,000).",
  err_csv_unreadable: "The file can't be read as CSV text: save it as “CSV UTF-8” and try again.",
  err_csv_no_email_column: "The file's first line must name its columns, with at least email (email,nickname,role).",
  err_import_conflict: "Members or accounts changed while importing; nothing was imported. Run the import again.",
  exportArchive: "Download conversations (zip)",
  exportArchiveBusy: "Preparing the archive…",
  exportArchiveNote: "Every member's conversations, as JSON and Markdown. Each member sees this download on their Account page.",
};

export type OperatorKey = keyof typeof en;

const ko: Record<OperatorKey, string> = {
  groups: "그룹",
  groupsIntro: "반, 기수, 팀: 누가, 얼마나, 어떤 모델로 대화할 수 있는지 정합니다.",
  noGroups: "아직 그룹이 없습니다.",
  noGroupsOperator: "운영하는 그룹이 아직 없습니다.",
  createGroup: "그룹 만들기",
  create: "만들기",
  name: "이름",
  description: "설명",
  descriptionOptional: "설명 (선택)",
  dailyLimit: "멤버당 하루 요청 수",
  dailyLimitHelp: "비워 두면 서비스 기본값을 따릅니다.",
  monthlyBudget: "멤버당 월 토큰",
  monthlyBudgetHelp: "비워 두면 토큰 한도가 없습니다.",
  membersCount: "멤버 {count}명",
  perDay: "하루 {count}회",
  defaultLimit: "기본 한도",
  tokensPerMonth: "월 {count} 토큰",
  operatedBy: "운영자: {names}",
  noOperators: "운영자 없음",
  backToGroups: "← 그룹",
  sections: "그룹 메뉴",
  members: "멤버",
  invites: "초대",
  import: "가져오기",
  settings: "설정",
  member: "멤버",
  role: "역할",
  roleMember: "멤버",
  roleOperator: "운영자",
  today: "오늘",
  todayOf: "{limit}회 중 {used}회",
  noLimit: "{used}회 (한도 없음)",
  tokensMonth: "이번 달 토큰",
  tokensOf: "{budget} 중 {used}",
  joinedAt: "가입일",
  actions: "작업",
  noMembers: "아직 멤버가 없습니다. 이메일로 추가하거나, 초대 링크를 보내거나, CSV로 가져오세요.",
  addMember: "멤버 추가",
  addMemberHelp: "이곳에 이미 계정이 있는 사람.",
  addMemberByInvite:
    "이미 계정이 있는 사람은 스스로 선택해 들어옵니다. 초대 링크를 보내 주세요. 새로운 사람은 CSV 파일로 가져와 계정을 만들 수도 있습니다.",
  toInvites: "초대 링크 만들기",
  toImport: "CSV 파일 가져오기",
  noMembersOperator: "아직 멤버가 없습니다. 초대 링크를 보내거나 CSV로 가져오세요.",
  add: "추가",
  removeMember: "제외",
  removeMemberLabel: "{name}님을 그룹에서 제외",
  confirmRemove: "{name}님을 {group}에서 제외할까요? 계정과 대화 기록은 남습니다.",
  memberAdded: "{name}님이 그룹에 들어왔습니다.",
  errUnknownMember: "이 이메일의 계정이 없습니다. 초대 링크를 보내거나 CSV로 가져와 계정을 만드세요.",
  newInvite: "새 초대 링크",
  expiresAt: "만료 (선택)",
  maxUses: "최대 사용 횟수 (선택)",
  createInvite: "링크 만들기",
  noInvites: "사용 중인 초대 링크가 없습니다.",
  inviteLink: "초대 링크 {code}",
  uses: "{max}회 중 {uses}회 사용",
  usesUnlimited: "{uses}회 사용, 제한 없음",
  expires: "{date} 만료",
  neverExpires: "만료 없음",
  copy: "복사",
  copyLink: "링크 복사",
  copyLinkFor: "{name}님의 링크 복사",
  copyInvite: "링크 복사 {code}",
  copied: "복사했습니다.",
  copyFailed: "복사하지 못했습니다. 링크를 선택해 직접 복사하세요.",
  revoke: "취소",
  revokeLabel: "초대 {code} 취소",
  confirmRevoke: "초대 {code}를 취소할까요? 링크는 바로 더 이상 작동하지 않습니다.",
  importTitle: "CSV 파일로 멤버 가져오기",
  importHelp:
    "머리글 email,nickname 아래에 한 줄에 한 명씩, 역할(member 또는 operator)은 선택입니다. 새 주소에는 계정과 비밀번호를 한 번 정하는 링크가 만들어지고, 여기에 보여 드리니 직접 전해 주세요. 이메일은 보내지 않습니다.",
  csvFile: "CSV 파일",
  check: "확인",
  runImport: "가져오기",
  checking: "확인 중…",
  importing: "가져오는 중…",
  dryRunSummary: "확인만 했고 바뀐 것은 없습니다: 만들기 {created}, 추가 {added}, 건너뛰기 {skipped}.",
  importSummary: "가져왔습니다: 만듦 {created}, 추가 {added}, 건너뜀 {skipped}.",
  line: "줄",
  action: "결과",
  reason: "이유",
  setPasswordLink: "비밀번호 설정 링크",
  wouldCreate: "만들 예정",
  wouldAdd: "추가할 예정",
  created: "만듦",
  added: "추가함",
  skipped: "건너뜀",
  copyAllLinks: "모든 링크 복사",
  linksHelp: "새 멤버에게 각자의 링크를 전해 주세요. 비밀번호를 한 번 정하고 나면 더 이상 작동하지 않습니다.",
  save: "저장",
  saved: "저장했습니다.",
  allowedModels: "허용 모델",
  allowedAssistants: "허용 어시스턴트",
  noneMeansAll: "아무것도 고르지 않으면 모두 허용합니다.",
  operators: "운영자",
  operatorsHelp: "이 그룹을 운영하는 멤버.",
  operatorsNeedMembers: "먼저 멤버를 추가하세요. 운영자는 멤버 중에서 고릅니다.",
  dangerZone: "그룹 삭제",
  deleteGroup: "그룹 삭제",
  confirmDeleteGroup: "{group} 그룹을 삭제할까요? 멤버의 계정과 기록은 남지만 그룹에서는 빠집니다.",
  notAllowed: "그룹 운영자와 관리자만 쓸 수 있는 곳입니다.",
  notFound: "없는 그룹이거나 운영 권한이 없는 그룹입니다.",
  retry: "다시 시도",
  sourceMember: "개인 한도",
  sourceGroup: "그룹 한도",
  sourceDefault: "기본값",
  err_offline: "서버에 연결할 수 없습니다. 연결을 확인하고 다시 시도하세요.",
  errServer: "서버에 문제가 생겼습니다. 잠시 후 다시 시도하세요.",
  err_admin_only: "관리자만 할 수 있습니다.",
  err_csv_too_large: "파일이 너무 큽니다 (1 MiB 초과).",
  err_csv_too_many_rows: "줄이 너무 많습니다 (5,000줄 초과).",
  err_csv_unreadable: "CSV 텍스트로 읽을 수 없는 파일입니다. “CSV UTF-8”로 저장해 다시 시도하세요.",
  err_csv_no_email_column: "파일의 첫 줄에 열 이름이 있어야 하고, 적어도 email이 있어야 합니다 (email,nickname,role).",
  err_import_conflict: "가져오는 동안 멤버나 계정이 바뀌어 아무것도 가져오지 않았습니다. 다시 가져오세요.",
  exportArchive: "대화 내려받기 (zip)",
  exportArchiveBusy: "압축 파일을 준비하는 중…",
  exportArchiveNote: "모든 멤버의 대화를 JSON과 Markdown으로 내려받습니다. 멤버는 자기 계정 페이지에서 이 내려받기 기록을 볼 수 있습니다.",
};

const dictionaries: Record<Lang, Record<OperatorKey, string>> = { en, ko };

export function translate(lang: Lang, key: OperatorKey, values: Record<string, string | number> = {}): string {
  return dictionaries[lang][key].replace(/\{(\w+)\}/g, (_, name: string) => String(values[name] ?? `{${name}}`));
}

export type OperatorT = (key: OperatorKey, values?: Record<string, string | number>) => string;

/** The operator area's `t`, plus the app's own (`shared`) for words both use (Loading…, Delete, Close). */
export function useOperatorI18n(): { lang: Lang; t: OperatorT; shared: (key: MessageKey) => string } {
  const { lang } = useI18n();
  return useMemo(
    () => ({
      lang,
      t: (key, values) => translate(lang, key, values),
      shared: (key) => translateShared(lang, key),
    }),
    [lang],
  );
}

/** Numbers as the reader writes them (1,234 / 1,234). */
export const formatNumber = (lang: Lang, n: number): string => new Intl.NumberFormat(lang === "ko" ? "ko-KR" : "en-US").format(n);

export function formatDate(lang: Lang, iso: string): string {
  return new Intl.DateTimeFormat(lang === "ko" ? "ko-KR" : "en-GB", { dateStyle: "medium" }).format(new Date(iso));
}

export function formatDateTime(lang: Lang, iso: string): string {
  return new Intl.DateTimeFormat(lang === "ko" ? "ko-KR" : "en-GB", { dateStyle: "medium", timeStyle: "short" }).format(
    new Date(iso),
  );
}

/** Error codes the operator area words itself (the server's detail is English only). */
export function errorKey(code: string): OperatorKey | null {
  const key = `err_${code}`;
  return key in en ? (key as OperatorKey) : null;
}

/** The import report's reasons, which the server writes in English, in Korean where they are known. */
const reasonsKo: [RegExp, (m: RegExpExecArray) => string][] = [
  [/^no email address$/, () => "이메일 주소가 없음"],
  [/^(.*) is not a valid email address$/, (m) => `${m[1]}: 올바른 이메일 주소가 아님`],
  [/^the same email is on line (\d+)$/, (m) => `같은 이메일이 ${m[1]}번째 줄에 있음`],
  [/^unknown role (.*) \(member or operator\)$/, (m) => `알 수 없는 역할 ${m[1]} (member 또는 operator)`],
  [/^only an admin may make operators$/, () => "운영자는 관리자만 지정할 수 있음"],
  [/^the nickname is longer than (\d+) characters$/, (m) => `닉네임이 ${m[1]}자보다 김`],
  [/^this email belongs to another member \(the nickname differs\)$/, () => "다른 멤버의 이메일 (닉네임이 다름)"],
  [/^this account is deactivated$/, () => "비활성화된 계정"],
  [/^already in this group$/, () => "이미 이 그룹에 있음"],
  [/^already has an account: send them an invite link$/, () => "이미 계정이 있음: 초대 링크를 보내세요"],
  [/^new accounts are limited to addresses at (.*)$/, (m) => `새 계정은 ${m[1]} 주소만 만들 수 있음`],
  [/^nickname taken from the address$/, () => "닉네임을 주소에서 가져옴"],
];

export function reasonText(lang: Lang, reason: string | null | undefined): string {
  if (!reason) return "";
  if (lang !== "ko") return reason;
  for (const [pattern, say] of reasonsKo) {
    const match = pattern.exec(reason);
    if (match) return say(match);
  }
  return reason;
}
