import ReactMarkdown, { type ExtraProps } from "react-markdown";
import remarkGfm from "remark-gfm";
import { CodeBlock } from "./CodeBlock";

type HastNode = NonNullable<ExtraProps["node"]>;

const textOf = (node: HastNode["children"][number]): string =>
  node.type === "text" ? node.value : "children" in node ? node.children.map(textOf).join("") : "";

/** A fenced block's raw code (without the newline that ends every fence) and its language, if it names one. */
function fencedCode(pre: HastNode | undefined): { code: string; language: string | null } | null {
  const code = pre?.children[0];
  if (code?.type !== "element" || code.tagName !== "code") return null;
  const classes = Array.isArray(code.properties.className) ? code.properties.className : [];
  const language = classes.map(String).find((name) => name.startsWith("language-"));
  return { code: textOf(code).replace(/\n$/, ""), language: language?.slice("language-".length) ?? null };
}

/**
 * The model's answer as Markdown. Raw HTML in it is shown as text, never run,
 * and react-markdown drops javascript: and other unsafe link targets.
 * Code blocks get a Copy button and, loaded on first use, syntax colours.
 */
export function Markdown({ text }: { text: string }) {
  return (
    <div className="markdown">
      <ReactMarkdown
        remarkPlugins={[remarkGfm]}
        skipHtml={false}
        components={{
          a: ({ node: _node, ...props }) => <a {...props} target="_blank" rel="noopener noreferrer" />,
          pre: ({ node, children }) => {
            const fenced = fencedCode(node);
            return fenced ? <CodeBlock code={fenced.code} language={fenced.language} /> : <pre>{children}</pre>;
          },
        }}
      >
        {text}
      </ReactMarkdown>
    </div>
  );
}
