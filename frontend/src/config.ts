/** Where the backend is: runtime config.json first, then the build-time VITE_API_BASE_URL, else this origin. */
export interface AppConfig {
  apiBaseUrl: string;
}

let current: AppConfig = { apiBaseUrl: (import.meta.env.VITE_API_BASE_URL as string | undefined) ?? "" };

export async function loadConfig(fetchImpl: typeof fetch = fetch): Promise<AppConfig> {
  try {
    const response = await fetchImpl(new URL("config.json", document.baseURI).toString(), { cache: "no-store" });
    if (response.ok) {
      const runtime = (await response.json()) as Partial<AppConfig>;
      if (typeof runtime.apiBaseUrl === "string" && runtime.apiBaseUrl) {
        current = { apiBaseUrl: runtime.apiBaseUrl };
      }
    }
  } catch {
    // No config.json: keep the build-time value.
  }
  current = { apiBaseUrl: current.apiBaseUrl.replace(/\/+$/, "") };
  return current;
}

export function apiUrl(path: string): string {
  return `${current.apiBaseUrl}${path}`;
}

export function setConfigForTests(config: AppConfig): void {
  current = config;
}
