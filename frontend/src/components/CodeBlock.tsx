import { useEffect, useMemo, useState } from "react";
import { useI18n } from "../i18n";
import { CopyButton } from "./CopyButton";

type Highlighter = typeof import("./highlight");

// One download for the whole page; once here, later blocks (and each streamed delta) colour at once.
let highlighter: Highlighter | null = null;
let loading: Promise<Highlighter> | null = null;

function loadHighlighter(): Promise<Highlighter> {
  loading ??= import("./highlight").then((module) => (highlighter = module));
  return loading;
}

/** A fenced code block of an answer: its language, a Copy button for the raw code, and colours once loaded. */
export function CodeBlock({ code, language }: { code: string; language: string | null }) {
  const { t } = useI18n();
  const [ready, setReady] = useState(highlighter !== null);

  useEffect(() => {
    if (ready || !language) return;
    let gone = false;
    loadHighlighter().then(
      () => !gone && setReady(true),
      () => undefined, // no colours: the plain code is still all there
    );
    return () => {
      gone = true;
    };
  }, [ready, language]);

  const coloured = useMemo(
    () => (ready && language ? highlighter!.highlight(code, language) : null),
    [ready, code, language],
  );

  return (
    <div className="code-block">
      <div className="code-block-head">
        <span className="code-language">{language}</span>
        <CopyButton text={code} label={t("copyCode")} />
      </div>
      <pre>
        <code className={coloured ? `hljs language-${language}` : undefined}>{coloured ?? code}</code>
      </pre>
    </div>
  );
}
