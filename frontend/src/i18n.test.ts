import { describe, expect, it } from "vitest";
import { detectLang, formatResetTime, translate } from "./i18n";

describe("language", () => {
  it("follows the browser, then the member's choice", () => {
    expect(detectLang(null, ["ko-KR", "en-US"])).toBe("ko");
    expect(detectLang(null, ["en-GB"])).toBe("en");
    expect(detectLang("en", ["ko-KR"])).toBe("en");
  });

  it("fills in values in both languages", () => {
    expect(translate("en", "quotaLine", { remaining: 3, limit: 5, time: "00:00" })).toBe(
      "3 of 5 left today, resets at 00:00",
    );
    expect(translate("ko", "quotaLine", { remaining: 3, limit: 5, time: "00:00" })).toBe(
      "오늘 5회 중 3회 남음, 00:00에 초기화",
    );
  });
});

describe("formatResetTime", () => {
  it("shows the reset in the quota's own time zone", () => {
    expect(formatResetTime("2026-11-26T00:00:00+09:00", "Asia/Seoul")).toBe("00:00");
    expect(formatResetTime("2026-11-26T00:00:00+09:00", "UTC")).toBe("15:00");
  });
});
