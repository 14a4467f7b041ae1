import { useEffect, useState } from "react";
import { Link, useParams } from "react-router";
import * as api from "../api";
import { ErrorNotice } from "../components/ErrorNotice";
import { useI18n } from "../i18n";

/** An invite link (`#/join/CODE`), opened by a member: joins the group, then says which one. */
export function JoinPage() {
  const { t } = useI18n();
  const { code = "" } = useParams();
  const [group, setGroup] = useState<api.Group | null>(null);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    let current = true;
    api.joinGroup(code).then(
      (joined) => current && setGroup(joined),
      (caught) => current && setError(caught),
    );
    return () => {
      current = false;
    };
  }, [code]);

  return (
    <section className="page">
      <h1>{t("joinTitle")}</h1>
      {group && (
        <p role="status" className="notice">
          {t("joined", { group: group.name })} <Link to="/">{t("startChatting")}</Link>
        </p>
      )}
      <ErrorNotice error={error} />
    </section>
  );
}
