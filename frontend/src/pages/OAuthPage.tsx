import { useEffect, useRef } from "react";
import { useNavigate, useSearchParams } from "react-router";
import * as api from "../api";
import { useI18n } from "../i18n";
import { safeNext } from "../next";

/** Where an OAuth login lands: trade the one-time code for tokens, then go where the member was going. */
export function OAuthPage() {
  const { t } = useI18n();
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const started = useRef(false);
  useEffect(() => {
    if (started.current) return;
    started.current = true;
    const code = params.get("code") ?? "";
    const next = safeNext(params.get("next"));
    api.exchangeOAuthCode(code).then(
      () => navigate(next, { replace: true }),
      () => navigate("/login?oauth_error=failed", { replace: true }),
    );
  }, [params, navigate]);
  return (
    <div className="auth">
      <p className="muted">{t("signingIn")}</p>
    </div>
  );
}
