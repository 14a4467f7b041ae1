import { render } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { Markdown } from "./Markdown";

describe("Markdown", () => {
  it("renders formatting from the model", () => {
    const { container } = render(<Markdown text={"**bold** and `code`\n\n1. one\n2. two"} />);
    expect(container.querySelector("strong")?.textContent).toBe("bold");
    expect(container.querySelectorAll("li")).toHaveLength(2);
  });

  it("never runs HTML or script from the model", () => {
    const hostile = '<script>window.pwned = 1</script><img src=x onerror="window.pwned = 2"> [x](javascript:alert(1))';
    const { container } = render(<Markdown text={hostile} />);
    expect(container.querySelector("script")).toBeNull();
    expect(container.querySelector("img")).toBeNull();
    expect(container.querySelector("a")?.getAttribute("href") ?? "").not.toContain("javascript:");
    expect((window as unknown as { pwned?: number }).pwned).toBeUndefined();
  });
});
