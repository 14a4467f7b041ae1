import { useEffect, useState } from "react";
import { Link, NavLink, useMatch, useNavigate } from "react-router";
import * as api from "../api";
import { formatResetTime, useI18n } from "../i18n";
import { useAppState } from "../state";
import { LanguageSwitch } from "./LanguageSwitch";

export function Sidebar() {
  const { t } = useI18n();
  const navigate = useNavigate();
  const { me, quota, listVersion, reloadList } = useAppState();
  const operates = api.canOperate(me);
  const [search, setSearch] = useState("");
  const [page, setPage] = useState<api.ConversationPage | null>(null);
  const [items, setItems] = useState<api.ConversationSummary[]>([]);
  const active = useMatch("/c/:id")?.params.id;

  useEffect(() => {
    const timer = setTimeout(() => {
      api.conversations(search).then((first) => {
        setPage(first);
        setItems(first.results);
      }, () => undefined);
    }, search ? 250 : 0);
    return () => clearTimeout(timer);
  }, [search, listVersion]);

  async function more() {
    if (!page?.next) return;
    const next = await api.conversations(search, page.next);
    setPage(next);
    setItems((current) => [...current, ...next.results]);
  }

  async function rename(conversation: api.ConversationSummary) {
    const title = window.prompt(t("renamePrompt"), conversation.title);
    if (title && title.trim()) {
      await api.renameConversation(conversation.id, title.trim());
      reloadList();
    }
  }

  async function remove(conversation: api.ConversationSummary) {
    if (!window.confirm(t("confirmDelete", { title: conversation.title || t("untitled") }))) return;
    await api.deleteConversation(conversation.id);
    reloadList();
    if (String(conversation.id) === active) navigate("/");
  }

  function closeMenu(event: React.MouseEvent<HTMLElement>) {
    const menu = event.currentTarget.closest("details");
    if (menu) menu.open = false;
  }

  async function logout() {
    await api.logout();
    navigate("/login");
  }

  return (
    <aside className="sidebar" aria-label="haruchat">
      <div className="sidebar-head">
        <Link to="/" className="brand">
          {t("appName")}
        </Link>
        <LanguageSwitch />
      </div>
      <Link to="/" className="button primary new-chat">
        + {t("newChat")}
      </Link>
      <label className="visually-hidden" htmlFor="conversation-search">
        {t("search")}
      </label>
      <input
        id="conversation-search"
        type="search"
        placeholder={t("search")}
        value={search}
        onChange={(e) => setSearch(e.target.value)}
      />
      <nav className="conversation-list">
        {items.length === 0 && <p className="muted">{t("noConversations")}</p>}
        <ul>
          {items.map((conversation) => (
            <li key={conversation.id} className={String(conversation.id) === active ? "active" : undefined}>
              <Link to={`/c/${conversation.id}`} className="conversation-link">
                {conversation.title || t("untitled")}
              </Link>
              <details className="item-menu">
                <summary aria-label={`${t("menu")}: ${conversation.title || t("untitled")}`}>⋯</summary>
                <div className="item-menu-body" onClick={closeMenu}>
                  <button type="button" onClick={() => rename(conversation)}>
                    {t("rename")}
                  </button>
                  <button type="button" onClick={() => api.downloadExport(conversation.id, "json")}>
                    {t("exportJson")}
                  </button>
                  <button type="button" onClick={() => api.downloadExport(conversation.id, "markdown")}>
                    {t("exportMarkdown")}
                  </button>
                  <button type="button" className="danger" onClick={() => remove(conversation)}>
                    {t("delete")}
                  </button>
                </div>
              </details>
            </li>
          ))}
        </ul>
        {page?.next && (
          <button type="button" className="link-button" onClick={more}>
            …
          </button>
        )}
      </nav>
      <div className="sidebar-foot">
        {quota && (
          <p className="quota" data-testid="quota">
            {t("quotaLine", {
              remaining: quota.remaining,
              limit: quota.limit,
              time: formatResetTime(quota.resets_at, quota.time_zone),
            })}
          </p>
        )}
        <div className="row">
          <button type="button" className="link-button" onClick={() => api.downloadExport(null, "json")}>
            {t("exportAll")}
          </button>
          {operates && (
            <NavLink to="/groups" className="link-button">
              {t("groups")}
            </NavLink>
          )}
          {operates && (
            <NavLink to="/usage" className="link-button">
              {t("usage")}
            </NavLink>
          )}
          <NavLink to="/my-usage" className="link-button">
            {t("myUsage")}
          </NavLink>
          <Link to="/account" className="link-button">
            {t("account")}
          </Link>
          <button type="button" className="link-button" onClick={logout}>
            {t("logOut")}
          </button>
        </div>
      </div>
    </aside>
  );
}
