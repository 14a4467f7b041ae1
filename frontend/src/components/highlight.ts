/**
 * Syntax highlighting, loaded only when an answer first shows a code block: highlight.js's core with
 * the languages answers use most (26 kB gzipped, a chunk of its own: none of it in the first page).
 */
import { createElement, type ReactNode } from "react";
import hljs from "highlight.js/lib/core";
import bash from "highlight.js/lib/languages/bash";
import c from "highlight.js/lib/languages/c";
import cpp from "highlight.js/lib/languages/cpp";
import css from "highlight.js/lib/languages/css";
import go from "highlight.js/lib/languages/go";
import java from "highlight.js/lib/languages/java";
import javascript from "highlight.js/lib/languages/javascript";
import json from "highlight.js/lib/languages/json";
import python from "highlight.js/lib/languages/python";
import rust from "highlight.js/lib/languages/rust";
import shell from "highlight.js/lib/languages/shell";
import sql from "highlight.js/lib/languages/sql";
import typescript from "highlight.js/lib/languages/typescript";
import xml from "highlight.js/lib/languages/xml";

// Each also answers to its aliases: py, js, jsx, ts, tsx, sh, zsh, console, html, svg, c++, golang, rs…
const languages = { bash, c, cpp, css, go, java, javascript, json, python, rust, shell, sql, typescript, xml };
for (const [name, language] of Object.entries(languages)) hljs.registerLanguage(name, language);

/** Past this, a block is shown plain: highlighting it would hold up the page for little gain. */
const MAX_LENGTH = 50_000;

/** `code` coloured as `language`, or null for a language this doesn't know (the block stays plain). */
export function highlight(code: string, language: string): ReactNode[] | null {
  if (!hljs.getLanguage(language) || code.length > MAX_LENGTH) return null;
  return toNodes(hljs.highlight(code, { language, ignoreIllegals: true }).value);
}

const TAG = /<span class="([\w\s-]*)">|<\/span>/g;
const ENTITIES: Record<string, string> = { "&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": '"', "&#x27;": "'" };
const unescape = (text: string) => text.replace(/&(?:amp|lt|gt|quot|#x27);/g, (entity) => ENTITIES[entity]);

/**
 * highlight.js's HTML as React elements rather than innerHTML: only its <span class> tags become
 * elements, everything else is text, so nothing from the model can ever become markup.
 */
export function toNodes(html: string): ReactNode[] {
  const root: ReactNode[] = [];
  const open: { className: string; children: ReactNode[] }[] = [];
  const current = () => open.at(-1)?.children ?? root;
  let key = 0;
  const close = () => {
    const span = open.pop()!;
    current().push(createElement("span", { key: key++, className: span.className }, ...span.children));
  };
  let last = 0;
  for (const match of html.matchAll(TAG)) {
    if (match.index > last) current().push(unescape(html.slice(last, match.index)));
    last = match.index + match[0].length;
    if (match[1] !== undefined) open.push({ className: match[1], children: [] });
    else if (open.length > 0) close();
  }
  if (last < html.length) current().push(unescape(html.slice(last)));
  while (open.length > 0) close();
  return root;
}
