import { Link, NavLink, Route, Routes, useParams } from "react-router";
import * as ops from "./api";
import { Loading, OperatorError, useLoad } from "./common";
import { ExportArchive } from "./ExportArchive";
import { ImportTab } from "./ImportTab";
import { InvitesTab } from "./InvitesTab";
import { MembersTab } from "./MembersTab";
import { SettingsTab } from "./SettingsTab";
import { useOperatorI18n } from "./strings";

/** One group: its members, invites, CSV import and settings, each a section with its own address. */
export function GroupPage() {
  const { t } = useOperatorI18n();
  const id = Number(useParams().id);
  const group = useLoad(() => ops.group(id), [id]);

  return (
    <section className="page wide operator">
      <p className="back">
        <Link to="/groups">{t("backToGroups")}</Link>
      </p>
      {group.loading && !group.data && <Loading />}
      <OperatorError error={group.error} onRetry={group.reload} />
      {group.data && (
        <>
          <h1>{group.data.name}</h1>
          {group.data.description && <p className="muted">{group.data.description}</p>}
          <ExportArchive groupId={id} />
          <nav className="tabs" aria-label={t("sections")}>
            <NavLink to={`/groups/${id}`} end>
              {t("members")}
            </NavLink>
            <NavLink to={`/groups/${id}/invites`}>{t("invites")}</NavLink>
            <NavLink to={`/groups/${id}/import`}>{t("import")}</NavLink>
            <NavLink to={`/groups/${id}/settings`}>{t("settings")}</NavLink>
          </nav>
          <Routes>
            <Route index element={<MembersTab group={group.data} />} />
            <Route path="invites" element={<InvitesTab group={group.data} />} />
            <Route path="import" element={<ImportTab group={group.data} onImported={group.reload} />} />
            <Route path="settings" element={<SettingsTab group={group.data} onSaved={group.setData} />} />
          </Routes>
        </>
      )}
    </section>
  );
}
