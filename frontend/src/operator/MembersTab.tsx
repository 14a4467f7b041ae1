import { useState, type FormEvent } from "react";
import { Link } from "react-router";
import { useAppState } from "../state";
import * as ops from "./api";
import { Loading, OperatorError, useLoad } from "./common";
import { formatDate, formatNumber, useOperatorI18n } from "./strings";

const sourceKey = { member: "sourceMember", group: "sourceGroup", default: "sourceDefault" } as const;

/** The group's members with today's requests against their limit and this month's tokens; add by email (an admin;
 * an operator is pointed to an invite link, since joining is the member's choice), remove. */
export function MembersTab({ group }: { group: ops.Group }) {
  const { t, lang } = useOperatorI18n();
  const { me } = useAppState();
  const list = useLoad(() => ops.members(group.id), [group.id]);
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState<string | null>(null);

  async function remove(member: ops.Member) {
    const name = member.nickname || member.email || String(member.id);
    if (!window.confirm(t("confirmRemove", { name, group: group.name }))) return;
    setError(null);
    setNotice(null);
    try {
      await ops.removeMember(group.id, member.id);
      list.reload();
    } catch (caught) {
      setError(caught);
    }
  }

  const today = (member: ops.Member) =>
    member.daily_limit === null
      ? t("noLimit", { used: formatNumber(lang, member.requests_today) })
      : t("todayOf", { used: formatNumber(lang, member.requests_today), limit: formatNumber(lang, member.daily_limit) });
  const tokens = (member: ops.Member) =>
    group.monthly_token_budget === null
      ? formatNumber(lang, member.tokens_this_month)
      : t("tokensOf", { used: formatNumber(lang, member.tokens_this_month), budget: formatNumber(lang, group.monthly_token_budget) });

  return (
    <div className="tab-body">
      {me && me.is_admin && (
        <AddMemberForm
          group={group}
          onAdded={(name) => {
            setNotice(t("memberAdded", { name }));
            list.reload();
          }}
          onError={setError}
        />
      )}
      {me && !me.is_admin && <InviteHint group={group} />}
      <OperatorError error={error} />
      {notice && (
        <p role="status" className="notice">
          {notice}
        </p>
      )}
      {list.loading && !list.data && <Loading />}
      <OperatorError error={list.error} onRetry={list.reload} />
      {list.data && list.data.length === 0 && <p className="empty">{t(me?.is_admin ? "noMembers" : "noMembersOperator")}</p>}
      {list.data && list.data.length > 0 && (
        <div className="table-scroll">
          <table className="data-table members-table">
            <caption className="visually-hidden">{t("members")}</caption>
            <thead>
              <tr>
                <th scope="col">{t("member")}</th>
                <th scope="col">{t("role")}</th>
                <th scope="col">{t("today")}</th>
                <th scope="col">{t("tokensMonth")}</th>
                <th scope="col">{t("joinedAt")}</th>
                <th scope="col">
                  <span className="visually-hidden">{t("actions")}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.data.map((member) => {
                const name = member.nickname || member.email || String(member.id);
                const full = member.daily_limit !== null && member.requests_today >= member.daily_limit;
                return (
                  <tr key={member.id} data-testid={`member-${member.email ?? member.id}`}>
                    <th scope="row" className="who">
                      <span>{member.nickname}</span>
                      {member.email && <span className="muted small">{member.email}</span>}
                    </th>
                    <td data-label={t("role")}>
                      <span className={member.role === "operator" ? "chip accent" : "chip"}>
                        {member.role === "operator" ? t("roleOperator") : t("roleMember")}
                      </span>
                    </td>
                    <td data-label={t("today")} className={full ? "usage full" : "usage"}>
                      <span className="usage-value">
                        <span>
                          {today(member)}
                          {member.daily_limit_source && (
                            <span className="muted small source"> · {t(sourceKey[member.daily_limit_source])}</span>
                          )}
                        </span>
                        {member.daily_limit !== null && member.daily_limit > 0 && (
                          <span className="bar" aria-hidden="true">
                            <span style={{ width: `${Math.min(100, (100 * member.requests_today) / member.daily_limit)}%` }} />
                          </span>
                        )}
                      </span>
                    </td>
                    <td data-label={t("tokensMonth")} className="usage">
                      {tokens(member)}
                    </td>
                    <td data-label={t("joinedAt")}>{member.joined_at ? formatDate(lang, member.joined_at) : ""}</td>
                    <td className="actions">
                      {(member.role !== "operator" || me?.is_admin) && (
                        <button
                          type="button"
                          className="danger"
                          aria-label={t("removeMemberLabel", { name })}
                          onClick={() => remove(member)}
                        >
                          {t("removeMember")}
                        </button>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

/** What an operator sees instead of the form: someone with an account joins by choice, with an invite link. */
function InviteHint({ group }: { group: ops.Group }) {
  const { t } = useOperatorI18n();
  return (
    <section className="panel add-member" aria-labelledby="add-member-title">
      <h2 id="add-member-title">{t("addMember")}</h2>
      <p className="muted small">{t("addMemberByInvite")}</p>
      <div className="row">
        <Link to={`/groups/${group.id}/invites`}>{t("toInvites")}</Link>
        <Link to={`/groups/${group.id}/import`}>{t("toImport")}</Link>
      </div>
    </section>
  );
}

/** An admin's form: put an existing account in the group, as a member or an operator. */
function AddMemberForm({
  group,
  onAdded,
  onError,
}: {
  group: ops.Group;
  onAdded: (name: string) => void;
  onError: (error: unknown) => void;
}) {
  const { t, shared } = useOperatorI18n();
  const [email, setEmail] = useState("");
  const [role, setRole] = useState<ops.Role>("member");
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    onError(null);
    try {
      const address = email.trim();
      const added = await ops.addMember(group.id, address, role === "operator" ? "operator" : undefined);
      setEmail("");
      setRole("member");
      onAdded(added?.nickname || added?.email || address);
    } catch (caught) {
      onError(caught);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="panel add-member" onSubmit={submit} aria-labelledby="add-member-title">
      <h2 id="add-member-title">{t("addMember")}</h2>
      <p className="muted small">{t("addMemberHelp")}</p>
      <div className="row">
        <label className="grow">
          <span className="visually-hidden">{shared("email")}</span>
          <input
            type="email"
            required
            autoComplete="off"
            placeholder={shared("email")}
            value={email}
            onChange={(e) => setEmail(e.target.value)}
          />
        </label>
        <label className="fixed">
          <span className="visually-hidden">{t("role")}</span>
          <select value={role} onChange={(e) => setRole(e.target.value as ops.Role)}>
            <option value="member">{t("roleMember")}</option>
            <option value="operator">{t("roleOperator")}</option>
          </select>
        </label>
        <button type="submit" className="primary" disabled={busy}>
          {t("add")}
        </button>
      </div>
    </form>
  );
}
