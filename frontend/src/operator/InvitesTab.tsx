import { useState, type FormEvent } from "react";
import * as ops from "./api";
import { CopyButton, Loading, NumberField, OperatorError, useLoad } from "./common";
import { formatDateTime, formatNumber, useOperatorI18n } from "./strings";

/** The group's live invite links: create one (optionally expiring or limited), copy it, revoke it. */
export function InvitesTab({ group }: { group: ops.Group }) {
  const { t, lang } = useOperatorI18n();
  const list = useLoad(() => ops.invites(group.id), [group.id]);
  const [expires, setExpires] = useState("");
  const [maxUses, setMaxUses] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  async function create(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const fields: { expires_at?: string; max_uses?: number } = {};
      if (expires) fields.expires_at = new Date(expires).toISOString(); // the browser's local time, sent as an instant
      if (maxUses.trim()) fields.max_uses = Number(maxUses);
      const created = await ops.createInvite(group.id, fields);
      setExpires("");
      setMaxUses("");
      list.setData([created, ...(list.data ?? []).filter((invite) => invite.id !== created.id)]);
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  }

  async function revoke(invite: ops.Invite) {
    if (!window.confirm(t("confirmRevoke", { code: invite.code }))) return;
    setError(null);
    try {
      await ops.revokeInvite(group.id, invite.id);
      list.setData((list.data ?? []).filter((other) => other.id !== invite.id));
    } catch (caught) {
      setError(caught);
    }
  }

  return (
    <div className="tab-body">
      <form className="panel stack" onSubmit={create} aria-labelledby="new-invite-title">
        <h2 id="new-invite-title">{t("newInvite")}</h2>
        <div className="row fields">
          <div className="field">
            <label htmlFor="invite-expires">{t("expiresAt")}</label>
            <input id="invite-expires" type="datetime-local" value={expires} onChange={(e) => setExpires(e.target.value)} />
          </div>
          <NumberField label={t("maxUses")} value={maxUses} onChange={setMaxUses} min={1} />
        </div>
        <div>
          <button type="submit" className="primary" disabled={busy}>
            {t("createInvite")}
          </button>
        </div>
      </form>
      <OperatorError error={error} />
      {list.loading && !list.data && <Loading />}
      <OperatorError error={list.error} onRetry={list.reload} />
      {list.data && list.data.length === 0 && <p className="empty">{t("noInvites")}</p>}
      {list.data && list.data.length > 0 && (
        <ul className="invites">
          {list.data.map((invite) => (
            <li key={invite.id} className="invite panel">
              <label className="invite-link">
                <span className="visually-hidden">{t("inviteLink", { code: invite.code })}</span>
                <input readOnly value={invite.url} onFocus={(e) => e.currentTarget.select()} />
              </label>
              <div className="row invite-meta">
                <span className="muted small">
                  {invite.max_uses === null
                    ? t("usesUnlimited", { uses: formatNumber(lang, invite.uses) })
                    : t("uses", { uses: formatNumber(lang, invite.uses), max: formatNumber(lang, invite.max_uses) })}
                  {" · "}
                  {invite.expires_at ? t("expires", { date: formatDateTime(lang, invite.expires_at) }) : t("neverExpires")}
                </span>
                <span className="row invite-actions">
                  <CopyButton text={invite.url} label={t("copyLink")} title={t("copyInvite", { code: invite.code })} />
                  <button type="button" className="danger" aria-label={t("revokeLabel", { code: invite.code })} onClick={() => revoke(invite)}>
                    {t("revoke")}
                  </button>
                </span>
              </div>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
