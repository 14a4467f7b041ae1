import { useI18n } from "../i18n";
import { ThemeSwitch } from "./ThemeSwitch";

/** The display switches, together wherever they appear (the sidebar, the login pages): language, then theme. */
export function LanguageSwitch() {
  const { t, toggle, lang } = useI18n();
  return (
    <div className="display-switches">
      <button type="button" className="link-button" onClick={toggle} lang={lang === "ko" ? "en" : "ko"}>
        {t("language")}
      </button>
      <ThemeSwitch />
    </div>
  );
}
