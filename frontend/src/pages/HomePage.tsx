import { useEffect, useState, type FormEvent } from "react";
import { useNavigate } from "react-router";
import * as api from "../api";
import { ChatErrorNotice } from "../components/ErrorNotice";
import { useI18n } from "../i18n";
import { useAppState } from "../state";

/** Pick an assistant; a guided one asks its intake questions before the conversation opens. */
export function HomePage() {
  const { t, lang } = useI18n();
  const navigate = useNavigate();
  const { reloadList } = useAppState();
  const [assistants, setAssistants] = useState<api.Assistant[]>([]);
  const [chosen, setChosen] = useState<api.Assistant | null>(null);
  const [answers, setAnswers] = useState<Record<string, string>>({});
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    api.assistants().then(setAssistants, setError);
  }, []);

  const name = (a: api.Assistant) => (lang === "ko" && a.name_ko) || a.name;
  const description = (a: api.Assistant) => (lang === "ko" && a.description_ko) || a.description;

  async function start(assistant: api.Assistant, intake: Record<string, string> = {}) {
    setBusy(true);
    setError(null);
    try {
      const conversation = await api.createConversation({ assistant: assistant.slug, intake });
      reloadList();
      navigate(`/c/${conversation.id}`);
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  }

  function choose(assistant: api.Assistant) {
    if (assistant.questions.length === 0) {
      void start(assistant);
    } else {
      setChosen(assistant);
      setAnswers({});
    }
  }

  function submitIntake(event: FormEvent) {
    event.preventDefault();
    if (chosen) void start(chosen, answers);
  }

  if (chosen) {
    return (
      <section className="page intake">
        <h1>{name(chosen)}</h1>
        <p className="muted">{t("intakeIntro")}</p>
        <form onSubmit={submitIntake} className="stack">
          {chosen.questions.map((question) => (
            <label key={question.key}>
              {(lang === "ko" && question.label_ko) || question.label}
              {question.required && <span className="muted"> ({t("required")})</span>}
              <textarea
                name={question.key}
                required={question.required}
                maxLength={4000}
                rows={2}
                placeholder={(lang === "ko" && question.help_text_ko) || question.help_text}
                value={answers[question.key] ?? ""}
                onChange={(e) => setAnswers({ ...answers, [question.key]: e.target.value })}
              />
            </label>
          ))}
          <ChatErrorNotice error={error} />
          <div className="row">
            <button type="button" onClick={() => setChosen(null)}>
              ←
            </button>
            <button type="submit" className="primary" disabled={busy}>
              {t("start")}
            </button>
          </div>
        </form>
      </section>
    );
  }

  return (
    <section className="page">
      <h1>{t("chooseAssistant")}</h1>
      <ChatErrorNotice error={error} />
      <ul className="assistants">
        {assistants.map((assistant) => (
          <li key={assistant.slug}>
            <button type="button" className="assistant-card" disabled={busy} onClick={() => choose(assistant)}>
              <strong>{name(assistant)}</strong>
              <span className="muted">{description(assistant)}</span>
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}
