/** The operator area (`#/groups…`), for groups' operators and admins; loaded only when opened. */
import { Route, Routes } from "react-router";
import { useAppState } from "../state";
import { canOperate } from "../api";
import { Loading } from "./common";
import { GroupPage } from "./GroupPage";
import { GroupsPage } from "./GroupsPage";
import { useOperatorI18n } from "./strings";

export default function OperatorArea() {
  const { t } = useOperatorI18n();
  const { me } = useAppState();
  if (!me) {
    return (
      <section className="page">
        <Loading />
      </section>
    );
  }
  if (!canOperate(me)) {
    return (
      <section className="page">
        <h1>{t("groups")}</h1>
        <p className="notice">{t("notAllowed")}</p>
      </section>
    );
  }
  return (
    <Routes>
      <Route index element={<GroupsPage />} />
      <Route path=":id/*" element={<GroupPage />} />
    </Routes>
  );
}
