import { useEffect, useState, type FormEvent } from "react";
import { Link } from "react-router";
import * as api from "../api";
import { ErrorNotice } from "../components/ErrorNotice";
import { useI18n } from "../i18n";

/** The member's logins: linked providers (removable, but never the last way in) and a password. */
export function AccountPage() {
  const { t } = useI18n();
  const [user, setUser] = useState<api.User | null>(null);
  const [linked, setLinked] = useState<api.LinkedAccount[]>([]);
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [current, setCurrent] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [policy, setPolicy] = useState<api.Registration | null>(null);
  const [reads, setReads] = useState<api.HistoryRead[]>([]);
  const [notice, setNotice] = useState<string | null>(null);

  const load = () => {
    api.me().then((loaded) => {
      setUser(loaded);
      setEmail(loaded.email ?? "");
    }, setError);
    api.linkedAccounts().then(setLinked, setError);
    api.registration().then(setPolicy, () => setPolicy(null));
    api.myHistoryReads().then(setReads, setError);
  };
  useEffect(load, []);

  async function unlink(account: api.LinkedAccount) {
    setError(null);
    try {
      await api.unlinkAccount(account.id);
      load();
    } catch (caught) {
      setError(caught);
    }
  }

  async function saveEmail(event: FormEvent) {
    event.preventDefault();
    setError(null);
    setNotice(null);
    try {
      setUser(await api.updateMe({ email }));
      setNotice(t("emailSaved"));
    } catch (caught) {
      setError(caught);
    }
  }

  async function savePassword(event: FormEvent) {
    event.preventDefault();
    setError(null);
    setNotice(null);
    try {
      await api.updateMe(current ? { password, current_password: current } : { password });
      setPassword("");
      setCurrent("");
      setNotice(t("passwordSet"));
    } catch (caught) {
      setError(caught);
    }
  }

  return (
    <section className="page">
      <h1>{t("account")}</h1>
      {user && (
        <p>
          <strong>{user.nickname}</strong> <span className="muted">{user.email ?? ""}</span>
        </p>
      )}
      <p>
        <Link to="/my-usage">{t("myUsage")} →</Link>
      </p>
      <h2>{t("historyReads")}</h2>
      {policy && <p>{t(policy.operator_reads_history ? "historyPolicyOn" : "historyPolicyOff")}</p>}
      {reads.length === 0 ? (
        <p className="muted">{t("noHistoryReads")}</p>
      ) : (
        <ul>
          {reads.map((read) => {
            const words = {
              reader: (read.reader as { email: string }).email,
              group: (read.group as { name: string } | null)?.name ?? "—",
              title: read.conversation_title ?? "",
              when: new Date(read.created_at).toLocaleString(),
            };
            const key = { read: "historyReadOne", list: "historyReadList", export: "historyReadExport" } as const;
            return <li key={read.id}>{t(key[read.action], words)}</li>;
          })}
        </ul>
      )}
      <h2>{t("linkedProviders")}</h2>
      {linked.length === 0 && <p className="muted">{t("noLinkedProviders")}</p>}
      <ul className="linked">
        {linked.map((account) => (
          <li key={account.id} className="row">
            <span>{account.name}</span>
            <button type="button" onClick={() => unlink(account)}>
              {t("remove")}
            </button>
          </li>
        ))}
      </ul>
      <h2>{t("email")}</h2>
      <form className="row" onSubmit={saveEmail}>
        <label>
          <span className="visually-hidden">{t("email")}</span>
          <input type="email" required autoComplete="email" value={email} onChange={(e) => setEmail(e.target.value)} />
        </label>
        <button type="submit">{t("saveEmail")}</button>
      </form>
      <h2>{t("setPassword")}</h2>
      <form className="stack" onSubmit={savePassword}>
        <label>
          {t("currentPassword")}
          <input type="password" autoComplete="current-password" value={current} onChange={(e) => setCurrent(e.target.value)} />
        </label>
        <label>
          {t("newPassword")}
          <input
            type="password"
            autoComplete="new-password"
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </label>
        <button type="submit" className="primary">
          {t("setPassword")}
        </button>
      </form>
      <ErrorNotice error={error} />
      {notice && <p className="notice">{notice}</p>}
    </section>
  );
}
