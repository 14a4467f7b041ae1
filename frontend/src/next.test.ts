import { describe, expect, it } from "vitest";
import { loginPath, safeNext } from "./next";

describe("safeNext", () => {
  it("keeps paths inside the app", () => {
    expect(safeNext("/c/12")).toBe("/c/12");
    expect(safeNext("/c/12?x=1")).toBe("/c/12?x=1");
  });

  it.each([null, "", "https://evil.example", "//evil.example/x", "/\\evil.example", "javascript:alert(1)", "/login", "c/1"])(
    "sends %s to the main page",
    (next) => {
      expect(safeNext(next)).toBe("/");
    },
  );
});

describe("loginPath", () => {
  it("carries the page to return to", () => {
    expect(loginPath("/c/3")).toBe("/login?next=%2Fc%2F3");
    expect(loginPath("/")).toBe("/login");
  });
});
