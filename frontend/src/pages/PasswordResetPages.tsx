import { useState, type FormEvent } from "react";
import { Link, useParams } from "react-router";
import * as api from "../api";
import { ErrorNotice } from "../components/ErrorNotice";
import { useI18n } from "../i18n";
import { AuthFrame } from "./AuthPages";

/** Asks for a reset link; says the same thing whether or not the address has an account. */
export function ForgotPasswordPage() {
  const { t } = useI18n();
  const [email, setEmail] = useState("");
  const [sent, setSent] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api.requestPasswordReset(email);
      setSent(true);
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  }

  return (
    <AuthFrame title={t("forgotTitle")}>
      {sent ? (
        <p role="status" className="notice">
          {t("resetSent", { email })}
        </p>
      ) : (
        <form onSubmit={submit} className="stack">
          <p className="muted">{t("forgotHelp")}</p>
          <label>
            {t("email")}
            <input type="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
          </label>
          <ErrorNotice error={error} />
          <button type="submit" className="primary" disabled={busy}>
            {t("sendResetLink")}
          </button>
        </form>
      )}
      <p className="muted">
        <Link to="/login">{t("backToLogin")}</Link>
      </p>
    </AuthFrame>
  );
}

/** The page a reset link opens: a new password, then the login page. */
export function ResetPasswordPage() {
  const { t } = useI18n();
  const { token = "" } = useParams();
  const [password, setPassword] = useState("");
  const [done, setDone] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api.confirmPasswordReset(token, password);
      api.tokens.clear(); // every session of the member ended, this browser's too
      setDone(true);
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  }

  return (
    <AuthFrame title={t("resetTitle")}>
      {done ? (
        <p role="status" className="notice">
          {t("resetDone")} <Link to="/login">{t("logIn")}</Link>
        </p>
      ) : (
        <form onSubmit={submit} className="stack">
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
          <ErrorNotice error={error} />
          <button type="submit" className="primary" disabled={busy}>
            {t("setPassword")}
          </button>
          <p className="muted">
            <Link to="/forgot">{t("askNewLink")}</Link>
          </p>
        </form>
      )}
    </AuthFrame>
  );
}
