import { useState, type FormEvent } from "react";
import { Link, useNavigate } from "react-router";
import { useAppState } from "../state";
import * as ops from "./api";
import { Loading, NumberField, OperatorError, numberOrNull, useLoad } from "./common";
import { formatNumber, useOperatorI18n } from "./strings";

/** The groups an operator runs (every group, for an admin), and for admins a form to create one. */
export function GroupsPage() {
  const { t, lang } = useOperatorI18n();
  const { me } = useAppState();
  const list = useLoad(ops.groups, []);
  const isAdmin = Boolean(me?.is_admin);

  return (
    <section className="page wide operator">
      <h1>{t("groups")}</h1>
      <p className="muted">{t("groupsIntro")}</p>
      {list.loading && !list.data && <Loading />}
      <OperatorError error={list.error} onRetry={list.reload} />
      {list.data && list.data.length === 0 && (
        <p className="empty">{isAdmin ? t("noGroups") : t("noGroupsOperator")}</p>
      )}
      {list.data && list.data.length > 0 && (
        <ul className="group-cards">
          {list.data.map((group) => (
            <li key={group.id}>
              <Link to={`/groups/${group.id}`} className="group-card">
                <strong className="group-name">{group.name}</strong>
                {group.description && <span className="muted group-description">{group.description}</span>}
                <span className="chips">
                  <span className="chip">{t("membersCount", { count: formatNumber(lang, group.member_count ?? 0) })}</span>
                  <span className="chip">
                    {group.daily_limit === null ? t("defaultLimit") : t("perDay", { count: formatNumber(lang, group.daily_limit) })}
                  </span>
                  {group.monthly_token_budget !== null && (
                    <span className="chip">{t("tokensPerMonth", { count: formatNumber(lang, group.monthly_token_budget) })}</span>
                  )}
                </span>
                <span className="muted small">
                  {group.operators?.length
                    ? t("operatedBy", { names: group.operators.map((o) => o.nickname || o.email).join(", ") })
                    : t("noOperators")}
                </span>
              </Link>
            </li>
          ))}
        </ul>
      )}
      {isAdmin && <CreateGroupForm />}
    </section>
  );
}

function CreateGroupForm() {
  const { t } = useOperatorI18n();
  const navigate = useNavigate();
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const [dailyLimit, setDailyLimit] = useState("");
  const [budget, setBudget] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const created = await ops.createGroup({
        name: name.trim(),
        description,
        daily_limit: numberOrNull(dailyLimit),
        monthly_token_budget: numberOrNull(budget),
      });
      navigate(`/groups/${created.id}`);
    } catch (caught) {
      setError(caught);
      setBusy(false);
    }
  }

  return (
    <form className="stack panel" onSubmit={submit} aria-labelledby="create-group-title">
      <h2 id="create-group-title">{t("createGroup")}</h2>
      <label>
        {t("name")}
        <input required maxLength={100} value={name} onChange={(e) => setName(e.target.value)} />
      </label>
      <label>
        {t("descriptionOptional")}
        <textarea rows={2} value={description} onChange={(e) => setDescription(e.target.value)} />
      </label>
      <div className="row fields">
        <NumberField label={t("dailyLimit")} help={t("dailyLimitHelp")} value={dailyLimit} onChange={setDailyLimit} />
        <NumberField label={t("monthlyBudget")} help={t("monthlyBudgetHelp")} value={budget} onChange={setBudget} />
      </div>
      <OperatorError error={error} />
      <div>
        <button type="submit" className="primary" disabled={busy}>
          {t("create")}
        </button>
      </div>
    </form>
  );
}
