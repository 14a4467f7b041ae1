/** The operator area's API calls: groups, their members, invites and the CSV import. */
import { api, type Assistant } from "../api";
import { saveDownload } from "../download";
import type { components } from "../api/schema";

/* The shapes come from the API's OpenAPI schema (src/api/schema.d.ts, `make api-types`), as in ../api.ts. */
type Schemas = components["schemas"];

export type Person = Schemas["GroupOperator"];
export type Group = Schemas["GroupOutput"];
/** What a group's form sends: every field optional (PATCH); `operators` (user ids) is for admins only. */
export type GroupFields = Schemas["PatchedGroupInputRequest"];
export type Role = Schemas["MembershipRoleEnum"];
export type Member = Schemas["MemberOutput"];
export type Invite = Schemas["InviteOutput"];
export type ImportAction = Schemas["ImportRow"]["action"];
export type ImportRow = Schemas["ImportRow"];
export type ImportReport = Schemas["ImportOutput"];
export type Models = Schemas["ModelListOutput"];

const json = (method: string, body: unknown): RequestInit => ({ method, body: JSON.stringify(body) });

export const groups = () => api<Group[]>("/api/groups");
export const group = (id: number) => api<Group>(`/api/groups/${id}`);
export const createGroup = (fields: Schemas["GroupInputRequest"]) => api<Group>("/api/groups", json("POST", fields));
export const updateGroup = (id: number, fields: GroupFields) => api<Group>(`/api/groups/${id}`, json("PATCH", fields));
export const deleteGroup = (id: number) => api<void>(`/api/groups/${id}`, { method: "DELETE" });

/** Every member's conversations in one zip (admins; operators where the history policy allows); audited. */
export const downloadGroupArchive = (groupId: number) =>
  saveDownload(`/api/groups/${groupId}/export`, `haruchat-group-${groupId}.zip`);

export const members = (groupId: number) => api<Member[]>(`/api/groups/${groupId}/members`);
export const addMember = (groupId: number, email: string, role?: Role) =>
  api<Member>(
    `/api/groups/${groupId}/members`,
    json("POST", (role ? { email, role } : { email }) satisfies Schemas["MemberListInputRequest"]),
  );
export const removeMember = (groupId: number, userId: number) =>
  api<void>(`/api/groups/${groupId}/members/${userId}`, { method: "DELETE" });

export const invites = (groupId: number) => api<Invite[]>(`/api/groups/${groupId}/invites`);
export const createInvite = (groupId: number, fields: Schemas["InviteListInputRequest"]) =>
  api<Invite>(`/api/groups/${groupId}/invites`, json("POST", fields));
export const revokeInvite = (groupId: number, inviteId: number) =>
  api<void>(`/api/groups/${groupId}/invites/${inviteId}`, { method: "DELETE" });

/** Sends the CSV as the multipart field `file`; with `dryRun` nothing changes and the report says what would. */
export async function importMembers(groupId: number, file: Blob, dryRun: boolean): Promise<ImportReport> {
  const form = new FormData();
  form.append("file", file, file instanceof File ? file.name : "members.csv");
  const query = dryRun ? "?dry_run=true" : "";
  return api<ImportReport>(`/api/groups/${groupId}/members/import${query}`, { method: "POST", body: form });
}

export const models = () => api<Models>("/api/models");
export const assistants = () => api<Assistant[]>("/api/assistants");
