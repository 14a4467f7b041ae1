import { useState } from "react";
import * as api from "../api";
import { useAppState } from "../state";
import * as ops from "./api";
import { OperatorError, useLoad } from "./common";
import { useOperatorI18n } from "./strings";

/** The group's conversations as one zip: for admins, and for operators where the history policy lets them read. */
export function ExportArchive({ groupId }: { groupId: number }) {
  const { t } = useOperatorI18n();
  const { me } = useAppState();
  const policy = useLoad(() => api.registration(), []);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  if (!me || !(me.is_admin || policy.data?.operator_reads_history)) return null;

  async function download() {
    setBusy(true);
    setError(null);
    try {
      await ops.downloadGroupArchive(groupId);
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="export-archive">
      <button type="button" onClick={download} disabled={busy} aria-describedby="export-archive-note">
        {busy ? t("exportArchiveBusy") : t("exportArchive")}
      </button>
      <p id="export-archive-note" className="muted">
        {t("exportArchiveNote")}
      </p>
      <OperatorError error={error} />
    </div>
  );
}
