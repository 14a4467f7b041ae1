/**
 * The haruchat API client: JSON requests with the member's JWT, a silent
 * refresh when the access token expires, and streamed answers read with
 * fetch (EventSource can't send a POST body or an Authorization header).
 */
import type { components } from "./api/schema";
import { apiUrl } from "./config";
import { readEvents } from "./sse";

/*
 * The API's shapes come from its OpenAPI schema (src/api/schema.d.ts, generated
 * by `make api-types`), so a change on the server shows here as a type error.
 */
type Schemas = components["schemas"];

export type User = Schemas["UserOutput"];
export type IntakeQuestion = Schemas["IntakeQuestionOutput"];
export type Assistant = Schemas["AssistantOutput"];
/** `status`: "" complete; "generating" or "stopping": still being written (follow it); "stopped" by the member; "interrupted": cut off. */
export type Message = Schemas["MessageOutput"];
export type ConversationSummary = Schemas["ConversationSummaryOutput"];
export type Conversation = Schemas["ConversationDetailOutput"];
export type ConversationPage = Schemas["ConversationPageOutput"];
export type Quota = Schemas["QuotaOutput"];
export type Provider = Schemas["ProvidersOutput"];
export type LinkedAccount = Schemas["SocialAccountOutput"];
type TokenPair = Schemas["TokenPairOutput"];

/** A call's error: the schema has it as a free-form dict, so its keys are written out here. */
export interface CompletionError {
  code: string;
  detail: string;
  upstream_status: number | null;
}

export type Completion = Omit<Schemas["CompletionOutput"], "error"> & { error: CompletionError | null };

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly body: Record<string, unknown> = {},
    readonly retryAfter: number | null = null,
  ) {
    super(message);
  }
}

const ACCESS = "haruchat.access";
const REFRESH = "haruchat.refresh";

export const tokens = {
  get access(): string | null {
    return localStorage.getItem(ACCESS);
  },
  get refresh(): string | null {
    return localStorage.getItem(REFRESH);
  },
  set(access: string, refresh?: string): void {
    localStorage.setItem(ACCESS, access);
    if (refresh) localStorage.setItem(REFRESH, refresh);
  },
  clear(): void {
    localStorage.removeItem(ACCESS);
    localStorage.removeItem(REFRESH);
  },
  present(): boolean {
    return Boolean(localStorage.getItem(ACCESS) || localStorage.getItem(REFRESH));
  },
};

/** Fired when the session can't be renewed; the app sends the member to the login page. */
export const SESSION_EXPIRED = "haruchat:session-expired";

let refreshing: Promise<boolean> | null = null;

/** Trade the refresh token for a new pair; one refresh at a time for all callers. */
export function refreshTokens(): Promise<boolean> {
  if (!refreshing) {
    refreshing = (async () => {
      const refresh = tokens.refresh;
      if (!refresh) return false;
      try {
        const response = await fetch(apiUrl("/api/auth/refresh"), {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ refresh } satisfies Schemas["RefreshInputRequest"]),
        });
        if (!response.ok) return false;
        const body = (await response.json()) as Schemas["RefreshInput"];
        tokens.set(body.access, body.refresh);
        return true;
      } catch {
        return false;
      }
    })().finally(() => {
      refreshing = null;
    });
  }
  return refreshing;
}

async function errorFrom(response: Response): Promise<ApiError> {
  let body: Record<string, unknown> = {};
  try {
    body = (await response.json()) as Record<string, unknown>;
  } catch {
    // not JSON: keep the status
  }
  const retryAfter = Number(response.headers.get("Retry-After")) || null;
  return new ApiError(
    response.status,
    String(body.code ?? "error"),
    String(body.detail ?? response.statusText),
    body,
    retryAfter,
  );
}

/** A fetch with the access token, refreshed once on 401. Network failures become ApiError("offline"). */
export async function authorizedFetch(path: string, init: RequestInit = {}, retry = true): Promise<Response> {
  const headers = new Headers(init.headers);
  if (tokens.access) headers.set("Authorization", `Bearer ${tokens.access}`);
  // A form (a file upload) sets its own multipart type and boundary; anything else is JSON.
  if (init.body && !(init.body instanceof FormData) && !headers.has("Content-Type")) {
    headers.set("Content-Type", "application/json");
  }
  let response: Response;
  try {
    response = await fetch(apiUrl(path), { ...init, headers });
  } catch (error) {
    if ((error as Error).name === "AbortError") throw error;
    throw new ApiError(0, "offline", "The server could not be reached.");
  }
  if (response.status === 401 && retry && tokens.refresh) {
    if (await refreshTokens()) return authorizedFetch(path, init, false);
    tokens.clear();
    window.dispatchEvent(new Event(SESSION_EXPIRED));
  }
  return response;
}

export async function api<T>(path: string, init: RequestInit = {}): Promise<T> {
  const response = await authorizedFetch(path, init);
  if (!response.ok) throw await errorFrom(response);
  const text = await response.text(); // 202 and 204 come with no body
  return (text ? JSON.parse(text) : undefined) as T;
}

/** A JSON body; name its schema type (`post<Schemas["…Request"]>(…)`) so the server's fields are checked. */
const post = <Body>(body: Body): RequestInit => ({ method: "POST", body: JSON.stringify(body) });
const patch = <Body>(body: Body): RequestInit => ({ method: "PATCH", body: JSON.stringify(body) });

export async function login(email: string, password: string): Promise<User> {
  const pair = await api<TokenPair>("/api/auth/login", post<Schemas["LoginInputRequest"]>({ email, password }));
  tokens.set(pair.access, pair.refresh);
  return pair.user;
}

export async function signup(fields: Schemas["SignupInputRequest"]): Promise<User> {
  const pair = await api<TokenPair>("/api/auth/signup", post(fields));
  tokens.set(pair.access, pair.refresh);
  return pair.user;
}

/** Asks for a reset link by mail; the answer is the same whether or not the address is registered. */
export const requestPasswordReset = (email: string) =>
  api<void>("/api/auth/password-reset", post<Schemas["PasswordResetInputRequest"]>({ email }));

export const confirmPasswordReset = (token: string, password: string) =>
  api<void>("/api/auth/password-reset/confirm", post<Schemas["PasswordResetConfirmInputRequest"]>({ token, password }));

export type Registration = Schemas["RegistrationOutput"];
export type Group = Schemas["GroupSummary"];
/** Joins the group of an invite code (a member already in it stays, and uses nothing up). */
export const joinGroup = (code: string) => api<Group>("/api/auth/join", post<Schemas["JoinInputRequest"]>({ code }));

/** The invite code of a `next` path that is a join link (`/join/CODE`), if it is one. */
export function inviteCodeIn(next: string): string | null {
  return /^\/join\/([\w-]+)$/.exec(next)?.[1] ?? null;
}
export const registration = () => api<Registration>("/api/auth/registration");
export type HistoryRead = Schemas["HistoryReadOutput"];
/** Who read the member's conversations (operators, when the deployment lets them). */
export const myHistoryReads = () => api<HistoryRead[]>("/api/auth/me/audit");

export async function logout(): Promise<void> {
  const refresh = tokens.refresh;
  tokens.clear();
  if (refresh) {
    await fetch(apiUrl("/api/auth/logout"), { ...post<Schemas["LogoutInputRequest"]>({ refresh }), headers: { "Content-Type": "application/json" } }).catch(
      () => undefined,
    );
  }
}

/** The member, with whether they run anything (`is_admin`, `operates`): admins and operators get the operator area. */
export type Me = User;
export const me = () => api<Me>("/api/auth/me");
export const canOperate = (user: Me | null | undefined): boolean =>
  Boolean(user && (user.is_admin || (user.operates?.length ?? 0) > 0));
/** A new password ends every token, this device's too: the answer then carries a fresh pair, kept here. */
export async function updateMe(fields: Schemas["PatchedMeUpdateRequest"]): Promise<User> {
  const updated = await api<Schemas["MeUpdatedOutput"]>("/api/auth/me", patch<Schemas["PatchedMeUpdateRequest"]>(fields));
  if (updated.access) tokens.set(updated.access, updated.refresh);
  return updated;
}

export const providers = () => api<Provider[]>("/api/auth/providers");
export const linkedAccounts = () => api<LinkedAccount[]>("/api/auth/social-accounts");
export const unlinkAccount = (id: number) => api<void>(`/api/auth/social-accounts/${id}`, { method: "DELETE" });

/** Where the browser goes to log in with a provider; it comes back to #/oauth. */
export function providerLoginUrl(provider: Provider, next: string): string {
  const query = next && next !== "/" ? `?next=${encodeURIComponent(next)}` : "";
  return apiUrl(provider.login_url + query);
}

/** Trade the one-time code from an OAuth login for the JWT pair. */
export async function exchangeOAuthCode(code: string): Promise<User> {
  const pair = await api<TokenPair>("/api/auth/oauth/exchange", post<Schemas["OAuthExchangeInputRequest"]>({ code }));
  tokens.set(pair.access, pair.refresh);
  return pair.user;
}
export const assistants = () => api<Assistant[]>("/api/assistants");
export const quota = () => api<Quota>("/api/quota");
export const conversation = (id: number) => api<Conversation>(`/api/conversations/${id}`);
export const completions = (id: number) => api<Completion[]>(`/api/conversations/${id}/completions`);
export const renameConversation = (id: number, title: string) => api<Conversation>(`/api/conversations/${id}`, patch<Schemas["PatchedConversationDetailChangeRequest"]>({ title }));
export const deleteConversation = (id: number) => api<void>(`/api/conversations/${id}`, { method: "DELETE" });

export function conversations(search = "", cursorUrl?: string | null): Promise<ConversationPage> {
  if (cursorUrl) {
    const url = new URL(cursorUrl);
    return api<ConversationPage>(url.pathname + url.search);
  }
  const query = search ? `?search=${encodeURIComponent(search)}` : "";
  return api<ConversationPage>(`/api/conversations${query}`);
}

export function createConversation(fields: Schemas["ConversationListCreateRequest"]) {
  return api<Conversation>("/api/conversations", post(fields));
}

/** Download an export with the member's token (a plain link would carry none). */
export async function downloadExport(id: number | null, format: "json" | "markdown"): Promise<void> {
  const path = id === null ? "/api/conversations/export" : `/api/conversations/${id}/export`;
  const response = await authorizedFetch(`${path}?format=${format}`);
  if (!response.ok) throw await errorFrom(response);
  const disposition = response.headers.get("Content-Disposition") ?? "";
  const filename = /filename="([^"]+)"/.exec(disposition)?.[1] ?? `haruchat.${format === "json" ? "json" : "md"}`;
  const link = document.createElement("a");
  link.href = URL.createObjectURL(await response.blob());
  link.download = filename;
  link.click();
  URL.revokeObjectURL(link.href);
}

/** The answer stream's events: a text/event-stream body, which the schema can't describe, so written out here. */
export type StreamEvent = (
  | {
      event: "start";
      /** `assistant_message`: the answer as stored when it starts (status "generating", no text yet). */
      data: { user_message: Message; assistant_message?: Message; completion_id: number; quota: Quota };
    }
  | { event: "delta"; data: { content: string } }
  | {
      event: "done";
      data: {
        assistant_message: Message;
        completion_id: number;
        finish_reason: string;
        usage: Record<string, number>;
        quota: Quota;
      };
    }
  | {
      event: "error";
      data: Schemas["Error"] & { status: number; user_message?: Message; partial_message?: Message };
    }
  /** After `done` of a first exchange: the conversation's new title (the model's). */
  | { event: "title"; data: { title: string } }
) & {
  /** A delta's `id:`: the answer's length in characters (code points) once it is added. */
  id?: string;
};

async function* answerEvents(path: string, init: RequestInit): AsyncGenerator<StreamEvent> {
  const response = await authorizedFetch(path, init);
  if (!response.ok || !response.body) throw await errorFrom(response);
  for await (const event of readEvents(response.body)) {
    yield event as StreamEvent;
  }
}

/**
 * Send a message (or, with `content === null`, ask for the answer to the last unanswered one) and
 * yield the answer's events as they stream in. `parentId` edits: the message follows that one
 * instead of the current leaf (null: a new first message).
 */
export function sendMessage(
  conversationId: number,
  content: string | null,
  { parentId, signal }: { parentId?: number | null; signal?: AbortSignal } = {},
): AsyncGenerator<StreamEvent> {
  const body: Schemas["MessageSendInputRequest"] = content === null ? { stream: true } : { content, stream: true };
  if (parentId !== undefined) body.parent_id = parentId;
  return answerEvents(`/api/conversations/${conversationId}/messages`, { ...post(body), signal });
}

/** Another answer beside `messageId` (an answer), or to it (a member's message), streamed. */
export function regenerateAnswer(conversationId: number, messageId: number, signal?: AbortSignal): AsyncGenerator<StreamEvent> {
  return answerEvents(`/api/conversations/${conversationId}/messages/${messageId}/regenerate`, {
    ...post<Schemas["AnswerRegenerateInputRequest"]>({ stream: true }),
    signal,
  });
}

/**
 * Follow an answer the server is generating (or has finished): `delta`s from `offset` (the
 * characters already shown, sent as Last-Event-ID) on, then `done` or `error`.
 */
export function followAnswer(conversationId: number, answerId: number, offset: number, signal?: AbortSignal): AsyncGenerator<StreamEvent> {
  const headers: Record<string, string> = offset > 0 ? { "Last-Event-ID": String(offset) } : {};
  return answerEvents(`/api/conversations/${conversationId}/messages/${answerId}/stream`, { headers, signal });
}

/** Ask the server to stop an answer; its stream then ends with what was produced. */
export const stopAnswer = (conversationId: number, answerId: number) =>
  api<Message>(`/api/conversations/${conversationId}/messages/${answerId}/stop`, { method: "POST" });

/** Show the branch through `messageId`: the server walks down from it by the newest answers to a leaf. */
export const switchBranch = (conversationId: number, messageId: number) =>
  api<Conversation>(
    `/api/conversations/${conversationId}`,
    patch<Schemas["PatchedConversationDetailChangeRequest"]>({ current_leaf_id: messageId }),
  );
