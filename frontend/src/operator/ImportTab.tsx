import { useRef, useState, type FormEvent } from "react";
import * as ops from "./api";
import { CopyButton, OperatorError } from "./common";
import { formatNumber, reasonText, useOperatorI18n, type OperatorKey } from "./strings";

/** CSV import: "Check" reports row by row what would happen; "Import" does it and shows the set-password links. */
export function ImportTab({ group, onImported }: { group: ops.Group; onImported: () => void }) {
  const { t, lang } = useOperatorI18n();
  const [file, setFile] = useState<File | null>(null);
  const [busy, setBusy] = useState<"check" | "import" | null>(null);
  const [report, setReport] = useState<ops.ImportReport | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [inputKey, setInputKey] = useState(0);
  const submitter = useRef<"check" | "import">("check");

  async function run(event: FormEvent) {
    event.preventDefault();
    if (!file) return;
    const dryRun = submitter.current === "check";
    setBusy(dryRun ? "check" : "import");
    setError(null);
    setReport(null);
    try {
      const result = await ops.importMembers(group.id, file, dryRun);
      setReport(result);
      if (!dryRun) {
        setFile(null); // the same file again would only skip everyone
        setInputKey((k) => k + 1);
        onImported();
      }
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(null);
    }
  }

  const links = report && !report.dry_run ? report.rows.filter((row) => row.set_password_url) : [];
  const n = (count: number) => formatNumber(lang, count);

  return (
    <div className="tab-body">
      <form className="panel stack" onSubmit={run} aria-labelledby="import-title" aria-describedby="import-help">
        <h2 id="import-title">{t("importTitle")}</h2>
        <p id="import-help" className="muted small">
          {t("importHelp")}
        </p>
        <pre className="csv-example" aria-hidden="true">
          {"email,nickname,role\nkim@example.com,Kim,member\nlee@example.com,Lee,operator"}
        </pre>
        <label>
          {t("csvFile")}
          <input
            key={inputKey}
            type="file"
            accept=".csv,text/csv"
            onChange={(e) => {
              setFile(e.target.files?.[0] ?? null);
              setReport(null);
              setError(null);
            }}
          />
        </label>
        <div className="row">
          <button type="submit" disabled={!file || busy !== null} onClick={() => (submitter.current = "check")}>
            {busy === "check" ? t("checking") : t("check")}
          </button>
          <button type="submit" className="primary" disabled={!file || busy !== null} onClick={() => (submitter.current = "import")}>
            {busy === "import" ? t("importing") : t("runImport")}
          </button>
        </div>
      </form>
      <OperatorError error={error} />
      {report && (
        <section aria-labelledby="import-summary" className="import-report">
          <p id="import-summary" role="status" className="notice">
            {t(report.dry_run ? "dryRunSummary" : "importSummary", {
              created: n(report.created),
              added: n(report.added),
              skipped: n(report.skipped),
            })}
          </p>
          {links.length > 0 && (
            <div className="row links-help">
              <p className="muted small grow">{t("linksHelp")}</p>
              <CopyButton
                text={links.map((row) => `${row.email}\t${row.set_password_url}`).join("\n")}
                label={t("copyAllLinks")}
              />
            </div>
          )}
          <div className="table-scroll">
            <table className="data-table import-table">
              <caption className="visually-hidden">{report.dry_run ? t("check") : t("runImport")}</caption>
              <thead>
                <tr>
                  <th scope="col">{t("line")}</th>
                  <th scope="col">{t("member")}</th>
                  <th scope="col">{t("role")}</th>
                  <th scope="col">{t("action")}</th>
                  {links.length > 0 && <th scope="col">{t("setPasswordLink")}</th>}
                </tr>
              </thead>
              <tbody>
                {report.rows.map((row) => (
                  <tr key={`${row.line}-${row.email}`} className={`import-${row.action}`}>
                    <td data-label={t("line")}>{row.line}</td>
                    <th scope="row" className="who">
                      <span>{row.nickname}</span>
                      <span className="muted small">{row.email}</span>
                    </th>
                    <td data-label={t("role")}>{row.role === "operator" ? t("roleOperator") : row.role === "member" ? t("roleMember") : row.role}</td>
                    <td data-label={t("action")} className="result">
                      <span className="result-value">
                        <span className={`chip action-${row.action}`}>{t(actionKey(row.action, report.dry_run))}</span>
                        {row.reason && <span className="reason">{reasonText(lang, row.reason)}</span>}
                      </span>
                    </td>
                    {links.length > 0 && (
                      <td data-label={t("setPasswordLink")} className="link-cell-wrap">
                        {row.set_password_url && (
                          <span className="link-cell">
                            <label className="grow">
                              <span className="visually-hidden">
                                {t("setPasswordLink")}: {row.email}
                              </span>
                              <input readOnly value={row.set_password_url} onFocus={(e) => e.currentTarget.select()} />
                            </label>
                            <CopyButton text={row.set_password_url} title={t("copyLinkFor", { name: row.email })} />
                          </span>
                        )}
                      </td>
                    )}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </section>
      )}
    </div>
  );
}

function actionKey(action: ops.ImportAction, dryRun: boolean): OperatorKey {
  if (action === "skipped") return "skipped";
  if (action === "created") return dryRun ? "wouldCreate" : "created";
  return dryRun ? "wouldAdd" : "added";
}
