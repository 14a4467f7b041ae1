import { useI18n } from "../i18n";

export function LanguageSwitch() {
  const { t, toggle, lang } = useI18n();
  return (
    <button type="button" className="link-button" onClick={toggle} lang={lang === "ko" ? "en" : "ko"}>
      {t("language")}
    </button>
  );
}
