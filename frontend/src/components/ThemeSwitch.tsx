import type { ReactNode } from "react";
import { useI18n, type MessageKey } from "../i18n";
import { setThemeChoice, useThemeChoice, type ThemeChoice } from "./theme";

const icon = (paths: ReactNode) => (
  <svg viewBox="0 0 24 24" width="15" height="15" fill="none" stroke="currentColor" strokeWidth="2" aria-hidden="true">
    {paths}
  </svg>
);

const choices: { value: ThemeChoice; label: MessageKey; icon: ReactNode }[] = [
  {
    value: "system",
    label: "themeSystem",
    icon: icon(
      <>
        <circle cx="12" cy="12" r="8" />
        <path d="M12 4a8 8 0 0 1 0 16z" fill="currentColor" />
      </>,
    ),
  },
  {
    value: "light",
    label: "themeLight",
    icon: icon(
      <>
        <circle cx="12" cy="12" r="4" />
        <path d="M12 2v2M12 20v2M4.9 4.9l1.4 1.4M17.7 17.7l1.4 1.4M2 12h2M20 12h2M4.9 19.1l1.4-1.4M17.7 6.3l1.4-1.4" />
      </>,
    ),
  },
  { value: "dark", label: "themeDark", icon: icon(<path d="M20 14.5A8 8 0 0 1 9.5 4a8 8 0 1 0 10.5 10.5z" />) },
];

/**
 * System, light or dark, as three radio buttons (arrow keys move between them): each shows an
 * icon, and is named for screen readers and in its tooltip.
 */
export function ThemeSwitch() {
  const { t } = useI18n();
  const current = useThemeChoice();
  return (
    <fieldset className="theme-switch">
      <legend className="visually-hidden">{t("theme")}</legend>
      {choices.map((choice) => (
        <label key={choice.value} title={t(choice.label)}>
          <input
            type="radio"
            name="haruchat-theme"
            className="visually-hidden"
            value={choice.value}
            checked={current === choice.value}
            onChange={() => setThemeChoice(choice.value)}
          />
          {choice.icon}
          <span className="visually-hidden">{t(choice.label)}</span>
        </label>
      ))}
    </fieldset>
  );
}
