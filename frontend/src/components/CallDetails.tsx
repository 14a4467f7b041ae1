import { useEffect, useId, useRef, useState, type ReactNode } from "react";
import * as api from "../api";
import { useI18n, type MessageKey } from "../i18n";
import { ErrorNotice } from "./ErrorNotice";

type Json = Record<string, unknown>;
type T = (key: MessageKey, values?: Record<string, string | number>) => string;

const isObject = (value: unknown): value is Json => typeof value === "object" && value !== null && !Array.isArray(value);
const objects = (value: unknown): Json[] => (Array.isArray(value) ? value.filter(isObject) : []);
const text = (value: unknown): string => (typeof value === "string" ? value : "");

/** A long URL (a data: URL can be megabytes) cut to its start and end. */
function truncateUrl(url: string, max = 64): string {
  return url.length <= max ? url : `${url.slice(0, max - 17)}…${url.slice(-16)}`;
}

/** A tool call's arguments, pretty-printed when they are JSON (the model may send anything). */
function prettyArguments(args: unknown): string {
  if (typeof args !== "string") return JSON.stringify(args ?? null, null, 2);
  try {
    return JSON.stringify(JSON.parse(args), null, 2);
  } catch {
    return args;
  }
}

interface ToolCall {
  id: string;
  name: string;
  arguments: unknown;
}

function toolCalls(message: Json): ToolCall[] {
  return objects(message.tool_calls).map((call) => {
    const type = text(call.type) || "function";
    const body = isObject(call[type]) ? (call[type] as Json) : isObject(call.function) ? call.function : {};
    return { id: text(call.id), name: text(body.name) || type, arguments: body.arguments ?? body.input };
  });
}

/** A message's `content`, whatever its shape: a string, null, or an array of parts. */
function Content({ content, t }: { content: unknown; t: T }) {
  if (typeof content === "string") return content ? <div className="call-text">{content}</div> : null;
  if (!Array.isArray(content)) return null;
  const pieces: ReactNode[] = [];
  let texts: string[] = [];
  const flush = () => {
    if (texts.length) pieces.push(<div className="call-text" key={pieces.length}>{texts.join("\n")}</div>);
    texts = [];
  };
  for (const part of content) {
    if (typeof part === "string") texts.push(part);
    else if (isObject(part) && typeof part.text === "string") texts.push(part.text);
    else if (isObject(part)) {
      flush();
      const type = text(part.type) || "?";
      const url = isObject(part.image_url) ? text(part.image_url.url) : text(part.image_url);
      pieces.push(
        <div className="call-part" key={pieces.length}>
          {type === "image_url" ? t("imagePart") : `[${type}]`}
          {url && <span className="call-url"> {truncateUrl(url)}</span>}
        </div>,
      );
    }
  }
  flush();
  return <>{pieces}</>;
}

function Tools({ tools, t }: { tools: Json[]; t: T }) {
  const id = useId();
  return (
    <section aria-labelledby={id}>
      <h3 id={id}>{t("callTools", { count: tools.length })}</h3>
      <ul className="call-list">
        {tools.map((tool, position) => {
          const type = text(tool.type) || "function";
          const body = isObject(tool[type]) ? (tool[type] as Json) : {};
          const name = text(body.name) || type;
          const parameters = body.parameters ?? body.input_schema;
          return (
            <li key={position} className="call-item">
              <code className="call-name">{name}</code>
              {type !== "function" && <span className="call-note"> ({type})</span>}
              {text(body.description) && <div className="call-note">{text(body.description)}</div>}
              {parameters !== undefined && (
                <details>
                  <summary>{t("toolParameters", { name })}</summary>
                  <pre>{JSON.stringify(parameters, null, 2)}</pre>
                </details>
              )}
            </li>
          );
        })}
      </ul>
    </section>
  );
}

function Messages({ messages, t }: { messages: Json[]; t: T }) {
  const id = useId();
  return (
    <section aria-labelledby={id}>
      <h3 id={id}>{t("callMessages", { count: messages.length })}</h3>
      <ol className="call-list">
        {messages.map((message, position) => {
          const calls = toolCalls(message);
          const answers = text(message.tool_call_id);
          return (
            <li key={position} className="call-item">
              <div className="call-head">
                <span className="call-role">{text(message.role) || "?"}</span>
                {answers && <span className="call-note">{t("toolResultFor", { id: answers })}</span>}
              </div>
              <Content content={message.content} t={t} />
              {calls.length > 0 && (
                <ul className="call-calls" aria-label={t("toolCalls")}>
                  {calls.map((call, number) => (
                    <li key={number}>
                      <code>
                        {call.name}({typeof call.arguments === "string" ? call.arguments : JSON.stringify(call.arguments ?? "")})
                      </code>
                      {call.id && <span className="call-note"> {call.id}</span>}
                    </li>
                  ))}
                </ul>
              )}
            </li>
          );
        })}
      </ol>
    </section>
  );
}

function logprobsNote(logprobs: unknown, t: T): string | null {
  if (!isObject(logprobs)) return null;
  const tokens = objects(logprobs.content);
  if (!tokens.length) return t("logprobsNone");
  const top = Math.max(0, ...tokens.map((token) => (Array.isArray(token.top_logprobs) ? token.top_logprobs.length : 0)));
  return top ? t("logprobsTop", { count: tokens.length, top }) : t("logprobsNote", { count: tokens.length });
}

/** One choice of the answer; a lone one is labelled by the section's heading (`labelledBy`) and has none of its own. */
function Choice(props: { choice: Json; position: number; total: number; labelledBy: string; t: T }) {
  const { choice, position, total, t } = props;
  const own = useId();
  const id = total > 1 ? own : props.labelledBy;
  const message = isObject(choice.message) ? choice.message : isObject(choice.delta) ? choice.delta : {};
  const calls = toolCalls(message);
  const note = logprobsNote(choice.logprobs, t);
  const finish = text(choice.finish_reason);
  const hasText = typeof message.content === "string" ? message.content !== "" : Array.isArray(message.content);
  return (
    <article className="call-item call-choice" aria-labelledby={id}>
      <div className="call-head">
        {total > 1 && <h4 id={id}>{t("choiceOf", { n: position + 1, total })}</h4>}
        {finish && <span className="call-note">{t("finishReason", { reason: finish })}</span>}
      </div>
      <Content content={message.content} t={t} />
      {!hasText && calls.length === 0 && <div className="call-note">{t("noText")}</div>}
      {text(message.refusal) && (
        <div className="call-text">
          <strong>{t("refusal")}:</strong> {text(message.refusal)}
        </div>
      )}
      {calls.length > 0 && (
        <ul className="call-calls" aria-label={t("toolCalls")}>
          {calls.map((call, number) => (
            <li key={number}>
              <code className="call-name">{call.name}</code>
              {call.id && <span className="call-note"> {call.id}</span>}
              <pre>{prettyArguments(call.arguments)}</pre>
            </li>
          ))}
        </ul>
      )}
      {note && <div className="call-note">{note}</div>}
    </article>
  );
}

function Choices({ choices, t }: { choices: Json[]; t: T }) {
  const id = useId();
  return (
    <section aria-labelledby={id}>
      <h3 id={id}>{choices.length > 1 ? t("callChoices", { count: choices.length }) : t("callAnswer")}</h3>
      {choices.map((choice, position) => (
        <Choice key={position} choice={choice} position={position} total={choices.length} labelledBy={id} t={t} />
      ))}
    </section>
  );
}

/** The record of one model call: settings, tokens, what was sent and answered, and the exact request and response JSON. */
export function CallDetails({
  conversationId,
  completionId,
  onClose,
}: {
  conversationId: number;
  completionId: number;
  onClose: () => void;
}) {
  const { t } = useI18n();
  const dialog = useRef<HTMLDialogElement>(null);
  const [call, setCall] = useState<api.Completion | null>(null);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    dialog.current?.showModal?.();
    api.completions(conversationId).then((calls) => setCall(calls.find((c) => c.id === completionId) ?? null), setError);
  }, [conversationId, completionId]);

  const request = call?.request ?? {};
  const usage = (call?.response?.usage ?? {}) as Record<string, number>;
  const replaced = call?.characters_replaced ?? 0;
  const tools = objects(request.tools);
  const messages = objects(request.messages);
  const choices = objects(call?.response?.choices);

  return (
    <dialog ref={dialog} className="call-details" onClose={onClose} aria-labelledby="call-details-title">
      <h2 id="call-details-title">{t("callDetails")}</h2>
      <ErrorNotice error={error} />
      {call && (
        <>
          <dl>
            <dt>{t("model")}</dt>
            <dd>{String(request.model ?? "")}</dd>
            <dt>{t("temperature")}</dt>
            <dd>{String(request.temperature ?? "—")}</dd>
            <dt>{t("tokens")}</dt>
            <dd>
              {usage.prompt_tokens ?? "—"} + {usage.completion_tokens ?? "—"} = {usage.total_tokens ?? "—"}
              {call.usage_counted && ` ${t("usageCounted")}`}
            </dd>
            <dt>{t("latency")}</dt>
            <dd>{call.latency_ms ?? "—"} ms</dd>
            <dt>{t("status")}</dt>
            <dd>{call.status}</dd>
            {replaced > 0 && (
              <>
                <dt>{t("charactersReplaced")}</dt>
                <dd>{t("charactersReplacedNote", { count: replaced })}</dd>
              </>
            )}
          </dl>
          {tools.length > 0 && <Tools tools={tools} t={t} />}
          {messages.length > 0 && <Messages messages={messages} t={t} />}
          {choices.length > 0 && <Choices choices={choices} t={t} />}
          <h3>{t("request")}</h3>
          <pre data-testid="request-json">{JSON.stringify(call.request, null, 2)}</pre>
          <h3>{t("response")}</h3>
          <pre data-testid="response-json">{JSON.stringify(call.response, null, 2)}</pre>
        </>
      )}
      <form method="dialog">
        <button type="submit" autoFocus>
          {t("close")}
        </button>
      </form>
    </dialog>
  );
}
