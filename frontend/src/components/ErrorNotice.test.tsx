import { describe, expect, it } from "vitest";
import { ApiError } from "../api";
import { translate } from "../i18n";
import { describeError } from "./ErrorNotice";

const t = (key: Parameters<typeof translate>[1], values?: Record<string, string | number>) => translate("en", key, values);

describe("describeError", () => {
  it("gives the reset time when the allowance is used up", () => {
    const error = new ApiError(429, "quota_exceeded", "used up", {}, 600);
    expect(describeError(error, t, { resets_at: "2026-11-26T00:00:00+09:00", time_zone: "Asia/Seoul" })).toBe(
      "You have used today's allowance. It resets at 00:00.",
    );
  });

  it.each([
    [502, "upstream_error"],
    [504, "upstream_timeout"],
    [502, "stream_broken"],
    [502, "model_error"],
  ])("says the model is unavailable for %s %s", (status, code) => {
    expect(describeError(new ApiError(status, code, "x"), t)).toBe(t("errModel"));
  });

  it("says offline when the server can't be reached", () => {
    expect(describeError(new ApiError(0, "offline", "x"), t)).toBe(t("errOffline"));
  });

  it("shows the server's own words for other errors", () => {
    expect(describeError(new ApiError(400, "blank", "content: The message is empty."), t)).toBe(
      "content: The message is empty.",
    );
  });
});
