/** Korean and English, chosen from the browser and switchable (kept in localStorage). */
import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from "react";

export type Lang = "ko" | "en";

const en = {
  appName: "haruchat",
  tagline: "Your daily allowance of good answers.",
  email: "Email",
  password: "Password",
  nickname: "Nickname",
  bornYear: "Birth year (optional)",
  job: "Job (optional)",
  logIn: "Log in",
  signUp: "Sign up",
  logOut: "Log out",
  noAccount: "New here?",
  haveAccount: "Already a member?",
  createAccount: "Create an account",
  newChat: "New chat",
  search: "Search conversations",
  noConversations: "No conversations yet.",
  rename: "Rename",
  delete: "Delete",
  export: "Export",
  exportJson: "Export JSON",
  exportMarkdown: "Export Markdown",
  exportAll: "Export all",
  confirmDelete: "Delete “{title}”? This cannot be undone.",
  renamePrompt: "New title",
  untitled: "New conversation",
  quotaLine: "{remaining} of {limit} left today, resets at {time}",
  chooseAssistant: "Who would you like to talk to?",
  start: "Start",
  intakeIntro: "A few questions first, so the conversation starts from where you are.",
  required: "required",
  messagePlaceholder: "Message (Enter to send, Shift+Enter for a new line)",
  send: "Send",
  stop: "Stop",
  thinking: "Thinking…",
  details: "Details",
  callDetails: "Model call",
  close: "Close",
  model: "Model",
  temperature: "Temperature",
  tokens: "Tokens",
  latency: "Latency",
  status: "Status",
  usageCounted: "(counted by haruchat: the model reported none)",
  charactersReplaced: "Characters replaced",
  charactersReplacedNote: "{count} (NUL characters or halves of an emoji, which can't be stored, recorded as �)",
  request: "Request JSON",
  response: "Response JSON",
  callTools: "Tools offered ({count})",
  toolParameters: "Parameters of {name}",
  callMessages: "Messages sent ({count})",
  toolResultFor: "result of {id}",
  imagePart: "[image]",
  toolCalls: "Tool calls",
  callAnswer: "Answer",
  callChoices: "Answers ({count} choices)",
  choiceOf: "Choice {n} of {total}",
  finishReason: "finish reason: {reason}",
  noText: "(no text)",
  refusal: "Refusal",
  logprobsNote: "Log probabilities for {count} tokens",
  logprobsTop: "Log probabilities for {count} tokens, with up to {top} alternatives each",
  logprobsNone: "Log probabilities asked for: none for this answer",
  retry: "Get the answer",
  errQuota: "You have used today's allowance. It resets at {time}.",
  errModel: "The model is unavailable right now. Your message is saved; try again in a moment.",
  errOffline: "You are offline or the server can't be reached. Your message is still here.",
  errGeneric: "Something went wrong: {detail}",
  errSession: "Your session has ended. Please log in again; what you typed is kept.",
  stopped: "Stopped.",
  language: "한국어",
  loading: "Loading…",
  menu: "Menu",
  orContinueWith: "or continue with",
  continueWith: "Continue with {name}",
  oauthDenied: "You cancelled the login with the provider.",
  oauthFailed: "The login with the provider did not work. Please try again.",
  oauthUnavailable: "That login provider is not available.",
  registrationClosed: "New accounts can't be made here: ask this haruchat's operator for one.",
  signupDomains: "Sign up with your address at {domains}.",
  historyPolicyOn:
    "Here, your group's operators may read your conversations (never change them); every read is recorded and shown to you on your Account page.",
  historyPolicyOff: "Here, nobody but you can read your conversations: operators see only counts of your use.",
  historyReads: "Who read your conversations",
  noHistoryReads: "Nobody has read your conversations.",
  historyReadList: "{reader} looked at your list of conversations ({group}), {when}",
  historyReadOne: "{reader} read “{title}” ({group}), {when}",
  forgotPassword: "Forgot your password?",
  forgotTitle: "Reset your password",
  forgotHelp: "Enter your account's email address. We'll send a link to set a new password.",
  sendResetLink: "Send the link",
  resetSent: "If {email} has an account here, a link to set a new password is on its way. It works once, for an hour.",
  backToLogin: "Back to log in",
  resetTitle: "Set a new password",
  resetDone: "Your new password is set, and every other session has ended.",
  askNewLink: "Link expired? Ask for a new one",
  errResetLink: "This link is invalid, expired or already used. Ask for a new one.",
  errSignupThrottled: "Too many new accounts from this network for now. Try again later.",
  joinTitle: "Join a group",
  joined: "You are in {group}.",
  startChatting: "Start chatting",
  errInvite: "This invite link is unknown, expired, revoked or used up. Ask your group's operator for another.",
  inviteRequired: "Sign-up here needs an invite link from your group's operator.",
  signingUpWithInvite: "You are signing up with an invite: you will join its group.",
  signingIn: "Signing you in…",
  account: "Account",
  linkedProviders: "Linked logins",
  noLinkedProviders: "No linked logins.",
  remove: "Remove",
  newPassword: "New password",
  currentPassword: "Current password (if you have one)",
  setPassword: "Set password",
  passwordSet: "Password saved.",
  saveEmail: "Save email",
  emailSaved: "Email saved.",
  groups: "Groups",
  usage: "Usage",
  myUsage: "My usage",
  copy: "Copy",
  copied: "Copied",
  copyFailed: "Copy failed",
  copyCode: "Copy code",
  copyAnswer: "Copy answer",
  theme: "Theme",
  themeSystem: "Match the system",
  themeLight: "Light",
  themeDark: "Dark",
};

export type MessageKey = keyof typeof en;

const ko: Record<MessageKey, string> = {
  appName: "하루챗",
  tagline: "하루치 좋은 대답.",
  email: "이메일",
  password: "비밀번호",
  nickname: "닉네임",
  bornYear: "출생 연도 (선택)",
  job: "직업 (선택)",
  logIn: "로그인",
  signUp: "회원가입",
  logOut: "로그아웃",
  noAccount: "처음이신가요?",
  haveAccount: "이미 회원이신가요?",
  createAccount: "계정 만들기",
  newChat: "새 대화",
  search: "대화 검색",
  noConversations: "아직 대화가 없습니다.",
  rename: "이름 바꾸기",
  delete: "삭제",
  export: "내보내기",
  exportJson: "JSON으로 내보내기",
  exportMarkdown: "Markdown으로 내보내기",
  exportAll: "전체 내보내기",
  confirmDelete: "“{title}” 대화를 삭제할까요? 되돌릴 수 없습니다.",
  renamePrompt: "새 제목",
  untitled: "새 대화",
  quotaLine: "오늘 {limit}회 중 {remaining}회 남음, {time}에 초기화",
  chooseAssistant: "누구와 이야기할까요?",
  start: "시작",
  intakeIntro: "지금 상태에서 대화를 시작할 수 있도록 몇 가지 먼저 여쭤볼게요.",
  required: "필수",
  messagePlaceholder: "메시지 (Enter 보내기, Shift+Enter 줄바꿈)",
  send: "보내기",
  stop: "멈추기",
  thinking: "생각 중…",
  details: "자세히",
  callDetails: "모델 호출",
  close: "닫기",
  model: "모델",
  temperature: "온도",
  tokens: "토큰",
  latency: "지연 시간",
  status: "상태",
  usageCounted: "(모델이 알려 주지 않아 haruchat이 센 값)",
  charactersReplaced: "대체된 문자",
  charactersReplacedNote: "{count}개 (저장할 수 없는 NUL 문자나 이모지의 반쪽을 �로 기록했습니다)",
  request: "요청 JSON",
  response: "응답 JSON",
  callTools: "제공한 도구 ({count}개)",
  toolParameters: "{name}의 매개변수",
  callMessages: "보낸 메시지 ({count}개)",
  toolResultFor: "{id}의 결과",
  imagePart: "[이미지]",
  toolCalls: "도구 호출",
  callAnswer: "답변",
  callChoices: "답변 (선택지 {count}개)",
  choiceOf: "선택지 {n} / {total}",
  finishReason: "종료 이유: {reason}",
  noText: "(텍스트 없음)",
  refusal: "거절",
  logprobsNote: "토큰 {count}개의 로그 확률",
  logprobsTop: "토큰 {count}개의 로그 확률 (토큰마다 대안 최대 {top}개)",
  logprobsNone: "로그 확률을 요청했지만 이 답변에는 없음",
  retry: "답변 받기",
  errQuota: "오늘 사용량을 모두 썼습니다. {time}에 초기화됩니다.",
  errModel: "지금은 모델을 사용할 수 없습니다. 메시지는 저장되었으니 잠시 후 다시 시도하세요.",
  errOffline: "오프라인이거나 서버에 연결할 수 없습니다. 입력한 메시지는 그대로 있습니다.",
  errGeneric: "문제가 생겼습니다: {detail}",
  errSession: "세션이 끝났습니다. 다시 로그인해 주세요. 입력한 내용은 남아 있습니다.",
  stopped: "멈췄습니다.",
  language: "English",
  loading: "불러오는 중…",
  menu: "메뉴",
  orContinueWith: "또는 다음으로 계속",
  continueWith: "{name}로 계속하기",
  oauthDenied: "로그인을 취소했습니다.",
  oauthFailed: "로그인에 실패했습니다. 다시 시도해 주세요.",
  oauthUnavailable: "사용할 수 없는 로그인 방법입니다.",
  registrationClosed: "이곳에서는 새 계정을 만들 수 없습니다. 운영자에게 계정을 요청해 주세요.",
  signupDomains: "{domains} 주소로 가입하세요.",
  historyPolicyOn:
    "이곳에서는 그룹 운영자가 내 대화를 읽을 수 있습니다(수정은 불가). 읽은 기록은 모두 남고 계정 페이지에서 볼 수 있습니다.",
  historyPolicyOff: "이곳에서는 나 외에는 아무도 내 대화를 읽을 수 없습니다. 운영자는 사용량 숫자만 봅니다.",
  historyReads: "내 대화를 읽은 사람",
  noHistoryReads: "아무도 내 대화를 읽지 않았습니다.",
  historyReadList: "{reader}님이 내 대화 목록을 봤습니다({group}), {when}",
  historyReadOne: "{reader}님이 “{title}” 대화를 읽었습니다({group}), {when}",
  forgotPassword: "비밀번호를 잊으셨나요?",
  forgotTitle: "비밀번호 재설정",
  forgotHelp: "계정의 이메일 주소를 입력하세요. 새 비밀번호를 정하는 링크를 보내 드립니다.",
  sendResetLink: "링크 보내기",
  resetSent: "{email}로 가입한 계정이 있다면 새 비밀번호를 정하는 링크를 보냈습니다. 링크는 한 번, 한 시간 동안 쓸 수 있습니다.",
  backToLogin: "로그인으로 돌아가기",
  resetTitle: "새 비밀번호 정하기",
  resetDone: "새 비밀번호를 정했고, 다른 모든 로그인은 끝났습니다.",
  askNewLink: "링크가 만료되었나요? 새 링크 받기",
  errResetLink: "유효하지 않거나 만료되었거나 이미 사용한 링크입니다. 새 링크를 받으세요.",
  errSignupThrottled: "지금 이 네트워크에서 새 계정을 너무 많이 만들었습니다. 나중에 다시 시도해 주세요.",
  joinTitle: "그룹 가입",
  joined: "{group}에 들어왔습니다.",
  startChatting: "대화 시작하기",
  errInvite: "알 수 없거나 만료되었거나 취소되었거나 다 쓴 초대 링크입니다. 그룹 운영자에게 새 링크를 요청하세요.",
  inviteRequired: "이곳에 가입하려면 그룹 운영자의 초대 링크가 필요합니다.",
  signingUpWithInvite: "초대 링크로 가입합니다. 가입하면 그 그룹에 들어갑니다.",
  signingIn: "로그인 중…",
  account: "계정",
  linkedProviders: "연결된 로그인",
  noLinkedProviders: "연결된 로그인이 없습니다.",
  remove: "연결 해제",
  newPassword: "새 비밀번호",
  currentPassword: "현재 비밀번호 (있다면)",
  setPassword: "비밀번호 설정",
  passwordSet: "비밀번호를 저장했습니다.",
  saveEmail: "이메일 저장",
  emailSaved: "이메일을 저장했습니다.",
  groups: "그룹",
  usage: "사용량",
  myUsage: "내 사용량",
  copy: "복사",
  copied: "복사됨",
  copyFailed: "복사 실패",
  copyCode: "코드 복사",
  copyAnswer: "답변 복사",
  theme: "화면 테마",
  themeSystem: "시스템 설정 따르기",
  themeLight: "밝게",
  themeDark: "어둡게",
};

const dictionaries: Record<Lang, Record<MessageKey, string>> = { en, ko };
const STORAGE_KEY = "haruchat.lang";

export function detectLang(stored: string | null, browser: readonly string[]): Lang {
  if (stored === "ko" || stored === "en") return stored;
  return browser.some((tag) => tag.toLowerCase().startsWith("ko")) ? "ko" : "en";
}

export function translate(lang: Lang, key: MessageKey, values: Record<string, string | number> = {}): string {
  return dictionaries[lang][key].replace(/\{(\w+)\}/g, (_, name: string) => String(values[name] ?? `{${name}}`));
}

interface I18n {
  lang: Lang;
  t: (key: MessageKey, values?: Record<string, string | number>) => string;
  toggle: () => void;
}

const I18nContext = createContext<I18n | null>(null);

export function I18nProvider({ children }: { children: ReactNode }) {
  const [lang, setLang] = useState<Lang>(() =>
    detectLang(localStorage.getItem(STORAGE_KEY), navigator.languages ?? [navigator.language]),
  );
  const toggle = useCallback(() => {
    setLang((previous) => {
      const next = previous === "ko" ? "en" : "ko";
      localStorage.setItem(STORAGE_KEY, next);
      return next;
    });
  }, []);
  const value = useMemo<I18n>(() => {
    document.documentElement.lang = lang;
    return { lang, t: (key, values) => translate(lang, key, values), toggle };
  }, [lang, toggle]);
  return <I18nContext.Provider value={value}>{children}</I18nContext.Provider>;
}

export function useI18n(): I18n {
  const context = useContext(I18nContext);
  if (!context) throw new Error("useI18n outside I18nProvider");
  return context;
}

/** A time of day ("00:00") in the quota's own time zone, so "resets at" means the same for everyone. */
export function formatResetTime(resetsAt: string, timeZone?: string): string {
  const date = new Date(resetsAt);
  try {
    return new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit", timeZone }).format(date);
  } catch {
    return new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit" }).format(date);
  }
}
