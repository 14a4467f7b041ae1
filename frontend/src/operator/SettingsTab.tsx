import { useState, type FormEvent } from "react";
import { useNavigate } from "react-router";
import { useAppState } from "../state";
import * as ops from "./api";
import { Loading, NumberField, OperatorError, numberOrNull, useLoad } from "./common";
import { useOperatorI18n } from "./strings";

const text = (n: number | null) => (n === null ? "" : String(n));

/** A group's name, allowances and what its members may use; for admins its operators, and deleting it. */
export function SettingsTab({ group, onSaved }: { group: ops.Group; onSaved: (group: ops.Group) => void }) {
  const { t, lang } = useOperatorI18n();
  const navigate = useNavigate();
  const { me } = useAppState();
  const isAdmin = Boolean(me?.is_admin);
  const choices = useLoad(() => Promise.all([ops.models(), ops.assistants()]), []);
  const people = useLoad(() => (isAdmin ? ops.members(group.id) : Promise.resolve([])), [group.id, isAdmin]);

  const [name, setName] = useState(group.name);
  const [description, setDescription] = useState(group.description);
  const [dailyLimit, setDailyLimit] = useState(text(group.daily_limit));
  const [budget, setBudget] = useState(text(group.monthly_token_budget));
  const [models, setModels] = useState<string[]>(group.models ?? []);
  const [assistants, setAssistants] = useState<string[]>(group.assistants ?? []);
  const [operators, setOperators] = useState<number[]>((group.operators ?? []).map((o) => o.id));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);

  const toggle = <T,>(list: T[], item: T, on: boolean): T[] => (on ? [...list.filter((x) => x !== item), item] : list.filter((x) => x !== item));

  async function save(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setSaved(false);
    try {
      const fields: ops.GroupFields = {
        name: name.trim(),
        description,
        daily_limit: numberOrNull(dailyLimit),
        monthly_token_budget: numberOrNull(budget),
        models,
        assistants,
      };
      if (isAdmin) fields.operators = operators;
      onSaved(await ops.updateGroup(group.id, fields));
      setSaved(true);
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  }

  async function remove() {
    if (!window.confirm(t("confirmDeleteGroup", { group: group.name }))) return;
    setError(null);
    try {
      await ops.deleteGroup(group.id);
      navigate("/groups");
    } catch (caught) {
      setError(caught);
    }
  }

  // Choices offered: what the server has, plus anything already allowed that it no longer lists.
  const [modelList, assistantList] = choices.data ?? [null, null];
  const modelIds = modelList ? [...new Set([...modelList.models, ...models])] : [];
  const assistantSlugs = assistantList ? assistantList.map((a) => a.slug) : [];
  const orphanAssistants = assistants.filter((slug) => !assistantSlugs.includes(slug));
  // Operators are chosen among the members (and anyone already named who isn't one).
  const candidates: ops.Person[] = people.data
    ? [...people.data, ...(group.operators ?? []).filter((o) => !people.data!.some((p) => p.id === o.id))]
    : [];
  const assistantName = (a: { name: string; name_ko?: string }) => (lang === "ko" && a.name_ko) || a.name;

  return (
    <div className="tab-body">
      <form className="panel stack" onSubmit={save} aria-labelledby="settings-title">
        <h2 id="settings-title">{t("settings")}</h2>
        <label>
          {t("name")}
          <input required maxLength={100} value={name} onChange={(e) => setName(e.target.value)} />
        </label>
        <label>
          {t("description")}
          <textarea rows={2} value={description} onChange={(e) => setDescription(e.target.value)} />
        </label>
        <div className="row fields">
          <NumberField label={t("dailyLimit")} help={t("dailyLimitHelp")} value={dailyLimit} onChange={setDailyLimit} />
          <NumberField label={t("monthlyBudget")} help={t("monthlyBudgetHelp")} value={budget} onChange={setBudget} />
        </div>
        {choices.loading && !choices.data && <Loading />}
        <OperatorError error={choices.error} onRetry={choices.reload} />
        {modelList && (
          <fieldset className="checks" aria-describedby="models-help">
            <legend>{t("allowedModels")}</legend>
            <p id="models-help" className="muted small">
              {t("noneMeansAll")}
            </p>
            {modelIds.map((model) => (
              <label key={model} className="check">
                <input type="checkbox" checked={models.includes(model)} onChange={(e) => setModels(toggle(models, model, e.target.checked))} />
                <span>
                  <code>{model}</code>
                </span>
              </label>
            ))}
          </fieldset>
        )}
        {assistantList && (
          <fieldset className="checks" aria-describedby="assistants-help">
            <legend>{t("allowedAssistants")}</legend>
            <p id="assistants-help" className="muted small">
              {t("noneMeansAll")}
            </p>
            {assistantList.map((assistant) => (
              <label key={assistant.slug} className="check">
                <input
                  type="checkbox"
                  checked={assistants.includes(assistant.slug)}
                  onChange={(e) => setAssistants(toggle(assistants, assistant.slug, e.target.checked))}
                />
                <span>{assistantName(assistant)}</span>
              </label>
            ))}
            {orphanAssistants.map((slug) => (
              <label key={slug} className="check">
                <input type="checkbox" checked onChange={(e) => setAssistants(toggle(assistants, slug, e.target.checked))} />
                <span>
                  <code>{slug}</code>
                </span>
              </label>
            ))}
          </fieldset>
        )}
        {isAdmin && (
          <fieldset className="checks" aria-describedby="operators-help">
            <legend>{t("operators")}</legend>
            <p id="operators-help" className="muted small">
              {people.data && candidates.length === 0 ? t("operatorsNeedMembers") : t("operatorsHelp")}
            </p>
            {people.loading && !people.data && <Loading />}
            <OperatorError error={people.error} onRetry={people.reload} />
            {candidates.map((person) => (
              <label key={person.id} className="check">
                <input
                  type="checkbox"
                  checked={operators.includes(person.id)}
                  onChange={(e) => setOperators(toggle(operators, person.id, e.target.checked))}
                />
                <span>
                  {person.nickname} <span className="muted small">{person.email}</span>
                </span>
              </label>
            ))}
          </fieldset>
        )}
        <OperatorError error={error} />
        {saved && (
          <p role="status" className="notice">
            {t("saved")}
          </p>
        )}
        <div>
          <button type="submit" className="primary" disabled={busy}>
            {t("save")}
          </button>
        </div>
      </form>
      {isAdmin && (
        <section className="panel danger-zone" aria-labelledby="delete-title">
          <h2 id="delete-title">{t("dangerZone")}</h2>
          <button type="button" className="danger" onClick={remove}>
            {t("deleteGroup")}
          </button>
        </section>
      )}
    </div>
  );
}
