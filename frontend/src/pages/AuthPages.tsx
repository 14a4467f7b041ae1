import { useEffect, useState, type FormEvent } from "react";
import { Link, useLocation, useNavigate, useSearchParams } from "react-router";
import * as api from "../api";
import { ErrorNotice } from "../components/ErrorNotice";
import { LanguageSwitch } from "../components/LanguageSwitch";
import { ProviderButtons } from "../components/ProviderButtons";
import { useI18n, type MessageKey } from "../i18n";
import { safeNext } from "../next";

/** Why a provider login came back to the login page (`?oauth_error=`), as a message; anything else: failed. */
const OAUTH_MESSAGES: Record<string, MessageKey> = {
  denied: "oauthDenied",
  unavailable: "oauthUnavailable",
  closed: "registrationClosed",
  invite: "errInvite",
};

function useAfterLogin() {
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const next = safeNext(params.get("next"));
  return { next, done: () => navigate(next, { replace: true }) };
}

export function AuthFrame({ title, children }: { title: string; children: React.ReactNode }) {
  const { t } = useI18n();
  return (
    <div className="auth">
      <div className="auth-card">
        <div className="auth-head">
          <h1 className="brand">{t("appName")}</h1>
          <LanguageSwitch />
        </div>
        <p className="muted">{t("tagline")}</p>
        <h2>{title}</h2>
        {children}
      </div>
    </div>
  );
}

export function LoginPage() {
  const { t } = useI18n();
  const { next, done } = useAfterLogin();
  const location = useLocation();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const expired = Boolean((location.state as { expired?: boolean } | null)?.expired);
  const [params] = useSearchParams();
  const oauthError = params.get("oauth_error");
  const oauthKey = oauthError ? (OAUTH_MESSAGES[oauthError] ?? "oauthFailed") : null;
  const oauthMessage = oauthKey ? t(oauthKey) : null;

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api.login(email, password);
      done();
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  }

  return (
    <AuthFrame title={t("logIn")}>
      {expired && <p className="notice">{t("errSession")}</p>}
      {oauthMessage && (
        <p role="alert" className="error">
          {oauthMessage}
        </p>
      )}
      <form onSubmit={submit} className="stack">
        <label>
          {t("email")}
          <input type="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} />
        </label>
        <label>
          {t("password")}
          <input
            type="password"
            autoComplete="current-password"
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </label>
        <ErrorNotice error={error} />
        <button type="submit" className="primary" disabled={busy}>
          {t("logIn")}
        </button>
      </form>
      <p className="muted">
        <Link to="/forgot">{t("forgotPassword")}</Link>
      </p>
      <ProviderButtons next={next} />
      <p className="muted">
        {t("noAccount")} <Link to={next === "/" ? "/signup" : `/signup?next=${encodeURIComponent(next)}`}>{t("createAccount")}</Link>
      </p>
    </AuthFrame>
  );
}

export function SignupPage() {
  const { t } = useI18n();
  const { next, done } = useAfterLogin();
  const [fields, setFields] = useState({ email: "", password: "", nickname: "", born_year: "", job: "" });
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const set = (name: keyof typeof fields) => (event: React.ChangeEvent<HTMLInputElement>) =>
    setFields({ ...fields, [name]: event.target.value });
  const inviteCode = api.inviteCodeIn(next); // signing up from an invite link (#/join/CODE)
  const [registration, setRegistration] = useState<api.Registration | null>(null);
  useEffect(() => {
    api.registration().then(setRegistration, () => setRegistration(null)); // unknown: offer the form
  }, []);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api.signup({
        email: fields.email,
        password: fields.password,
        nickname: fields.nickname,
        born_year: fields.born_year ? Number(fields.born_year) : null,
        job: fields.job,
        ...(inviteCode ? { invite_code: inviteCode } : {}),
      });
      done();
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  }

  if (registration?.mode === "closed" || (registration?.mode === "invite" && !inviteCode)) {
    return (
      <AuthFrame title={t("signUp")}>
        <p role="status" className="notice">
          {registration.mode === "invite" ? t("inviteRequired") : t("registrationClosed")}
        </p>
        <p className="muted">
          {t("haveAccount")} <Link to={next === "/" ? "/login" : `/login?next=${encodeURIComponent(next)}`}>{t("logIn")}</Link>
        </p>
      </AuthFrame>
    );
  }

  return (
    <AuthFrame title={t("signUp")}>
      {inviteCode && <p className="notice">{t("signingUpWithInvite")}</p>}
      {registration && (
        <p className="muted">{t(registration.operator_reads_history ? "historyPolicyOn" : "historyPolicyOff")}</p>
      )}
      {registration && registration.domains.length > 0 && (
        <p className="notice">{t("signupDomains", { domains: registration.domains.join(", ") })}</p>
      )}
      <form onSubmit={submit} className="stack">
        <label>
          {t("email")}
          <input type="email" autoComplete="email" required value={fields.email} onChange={set("email")} />
        </label>
        <label>
          {t("password")}
          <input type="password" autoComplete="new-password" required value={fields.password} onChange={set("password")} />
        </label>
        <label>
          {t("nickname")}
          <input required maxLength={50} autoComplete="nickname" value={fields.nickname} onChange={set("nickname")} />
        </label>
        <div className="row">
          <label>
            {t("bornYear")}
            <input type="number" min={1900} max={new Date().getFullYear()} value={fields.born_year} onChange={set("born_year")} />
          </label>
          <label>
            {t("job")}
            <input maxLength={100} value={fields.job} onChange={set("job")} />
          </label>
        </div>
        <ErrorNotice error={error} />
        <button type="submit" className="primary" disabled={busy}>
          {t("signUp")}
        </button>
      </form>
      <ProviderButtons next={next} />
      <p className="muted">
        {t("haveAccount")} <Link to={next === "/" ? "/login" : `/login?next=${encodeURIComponent(next)}`}>{t("logIn")}</Link>
      </p>
    </AuthFrame>
  );
}
