import { act, cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { I18nProvider } from "../i18n";
import { Markdown } from "./Markdown";

const renderMarkdown = (text: string) =>
  render(
    <I18nProvider>
      <Markdown text={text} />
    </I18nProvider>,
  );

/** A clipboard that records what was written to it. */
function stubClipboard() {
  const writeText = vi.fn(async (_text: string) => undefined);
  Object.defineProperty(navigator, "clipboard", { value: { writeText }, configurable: true });
  return writeText;
}

const fence = (language: string, code: string) => "```" + language + "\n" + code + "\n```";

describe("Markdown", () => {
  beforeEach(() => localStorage.setItem("haruchat.lang", "en"));
  afterEach(() => {
    cleanup();
    vi.useRealTimers();
  });

  it("renders formatting from the model", () => {
    const { container } = renderMarkdown("**bold** and `code`\n\n1. one\n2. two");
    expect(container.querySelector("strong")?.textContent).toBe("bold");
    expect(container.querySelectorAll("li")).toHaveLength(2);
    // Inline code is no code block: no Copy button for it.
    expect(screen.queryByRole("button")).toBeNull();
  });

  it("never runs HTML or script from the model", () => {
    const hostile = '<script>window.pwned = 1</script><img src=x onerror="window.pwned = 2"> [x](javascript:alert(1))';
    const { container } = renderMarkdown(hostile);
    expect(container.querySelector("script")).toBeNull();
    expect(container.querySelector("img")).toBeNull();
    expect(container.querySelector("a")?.getAttribute("href") ?? "").not.toContain("javascript:");
    expect((window as unknown as { pwned?: number }).pwned).toBeUndefined();
  });

  it("copies a code block's raw code, and says so for a moment", async () => {
    const writeText = stubClipboard();
    const code = 'def greet(name):\n    return f"hi {name} <3"';
    renderMarkdown(`Here:\n\n${fence("python", code)}\n\nand more \`inline\`.`);
    const copy = screen.getByRole("button", { name: "Copy code" });
    expect(copy.textContent).toBe("Copy");
    vi.useFakeTimers();
    await act(async () => fireEvent.click(copy));
    expect(writeText).toHaveBeenCalledWith(code);
    expect(copy.textContent).toBe("Copied");
    expect(screen.getByRole("status").textContent).toBe("Copied");
    act(() => vi.advanceTimersByTime(2500));
    expect(copy.textContent).toBe("Copy");
  });

  it("colours code once the highlighter has loaded", async () => {
    const { container } = renderMarkdown(fence("python", "import os\nprint('hi')  # greet"));
    const code = container.querySelector("pre code")!;
    expect(container.querySelector(".code-language")?.textContent).toBe("python");
    await waitFor(() => expect(code.querySelector(".hljs-keyword")?.textContent).toBe("import"));
    expect(code.querySelector(".hljs-string")?.textContent).toBe("'hi'");
    expect(code.querySelector(".hljs-comment")?.textContent).toBe("# greet");
    expect(code.textContent).toBe("import os\nprint('hi')  # greet");
  });

  it("keeps markup in code as text when colouring it", async () => {
    const html = '<script>window.pwned = 3</script><b onclick="x()">&amp;</b>';
    const { container } = renderMarkdown(fence("html", html));
    const code = container.querySelector("pre code")!;
    await waitFor(() => expect(code.querySelector(".hljs-tag")).not.toBeNull());
    expect(code.querySelector("script, b")).toBeNull();
    expect(code.textContent).toBe(html);
    expect((window as unknown as { pwned?: number }).pwned).toBeUndefined();
  });

  it("leaves code in an unknown or unnamed language plain, still copyable", async () => {
    const writeText = stubClipboard();
    const { container } = renderMarkdown(`${fence("klingon", "qaStaH nuq")}\n\n${fence("", "just text")}`);
    await import("./highlight"); // loaded: any colouring would have happened
    await waitFor(() => expect(container.querySelectorAll("pre code")).toHaveLength(2));
    expect(container.querySelector("pre code span")).toBeNull();
    const [, second] = screen.getAllByRole("button", { name: "Copy code" });
    await act(async () => fireEvent.click(second));
    expect(writeText).toHaveBeenCalledWith("just text");
  });
});
