/** Files the API serves to a signed-in member (exports, CSV reports, archives), saved under the server's name. */
import { ApiError, authorizedFetch } from "./api";

/** Fetch `path` with the member's token (a plain link would carry none) and save it. */
export async function saveDownload(path: string, fallbackName: string): Promise<void> {
  const response = await authorizedFetch(path);
  if (!response.ok) {
    let body: Record<string, unknown> = {};
    try {
      body = (await response.json()) as Record<string, unknown>;
    } catch {
      // not JSON: keep the status
    }
    throw new ApiError(response.status, String(body.code ?? "error"), String(body.detail ?? response.statusText), body);
  }
  const disposition = response.headers.get("Content-Disposition") ?? "";
  const filename = /filename="([^"]+)"/.exec(disposition)?.[1] ?? fallbackName;
  const link = document.createElement("a");
  link.href = URL.createObjectURL(await response.blob());
  link.download = filename;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 0);
}
