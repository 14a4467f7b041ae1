import { useEffect, useState } from "react";
import * as api from "../api";
import { useI18n } from "../i18n";

/** One button per configured provider (GitHub, Kakao); none when none is configured. */
export function ProviderButtons({ next }: { next: string }) {
  const { t } = useI18n();
  const [providers, setProviders] = useState<api.Provider[]>([]);
  useEffect(() => {
    api.providers().then(setProviders, () => setProviders([]));
  }, []);
  if (providers.length === 0) return null;
  return (
    <div className="providers">
      <p className="muted divider">{t("orContinueWith")}</p>
      {providers.map((provider) => (
        <a key={provider.id} className={`button provider ${provider.id}`} href={api.providerLoginUrl(provider, next)}>
          {t("continueWith", { name: provider.name })}
        </a>
      ))}
    </div>
  );
}
