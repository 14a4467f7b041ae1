/**
 * The page to return to after logging in: only a path inside this app,
 * never an outside URL (no scheme, no protocol-relative "//host").
 */
export function safeNext(next: string | null | undefined): string {
  if (!next || !next.startsWith("/") || next.startsWith("//") || next.startsWith("/\\")) {
    return "/";
  }
  if (/^\/+[a-z][a-z0-9+.-]*:/i.test(next) || /[\u0000-\u001f]/.test(next)) {
    return "/";
  }
  if (next.startsWith("/login") || next.startsWith("/signup")) {
    return "/";
  }
  return next;
}

export function loginPath(currentPath: string): string {
  const next = safeNext(currentPath);
  return next === "/" ? "/login" : `/login?next=${encodeURIComponent(next)}`;
}
