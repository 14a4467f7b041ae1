import ReactMarkdown from "react-markdown";
import remarkGfm from "remark-gfm";

/**
 * The model's answer as Markdown. Raw HTML in it is shown as text, never run,
 * and react-markdown drops javascript: and other unsafe link targets.
 */
export function Markdown({ text }: { text: string }) {
  return (
    <div className="markdown">
      <ReactMarkdown
        remarkPlugins={[remarkGfm]}
        skipHtml={false}
        components={{ a: ({ node: _node, ...props }) => <a {...props} target="_blank" rel="noopener noreferrer" /> }}
      >
        {text}
      </ReactMarkdown>
    </div>
  );
}
