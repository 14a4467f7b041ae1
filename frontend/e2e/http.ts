/** The browser tests' own calls to the API (setting up accounts and conversations), outside the page. */

export interface CallInit {
  method?: string;
  body?: unknown;
  token?: string;
}

/** A JSON request to `baseUrl + path`; the parsed body (undefined when empty), or an error naming the status. */
export async function apiCall<T>(baseUrl: string, path: string, init: CallInit = {}): Promise<T> {
  const response = await fetch(`${baseUrl}${path}`, {
    method: init.method ?? (init.body ? "POST" : "GET"),
    headers: { "Content-Type": "application/json", ...(init.token ? { Authorization: `Bearer ${init.token}` } : {}) },
    body: init.body ? JSON.stringify(init.body) : undefined,
  });
  if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
  const text = await response.text();
  return (text ? JSON.parse(text) : undefined) as T;
}
