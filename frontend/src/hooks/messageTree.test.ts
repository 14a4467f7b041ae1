import { describe, expect, it } from "vitest";
import { message } from "./answerStreamTesting";
import { branchOf, characterCount, newestLeafUnder, versionsOf, withMessage } from "./messageTree";

// 1 → 2 → 3 → 4, with 5 another answer to 1 and 6 another version of 3 (an edit).
const messages = [
  message({ id: 1, role: "user" }),
  message({ id: 2, parent_id: 1, role: "assistant" }),
  message({ id: 3, parent_id: 2, role: "user" }),
  message({ id: 4, parent_id: 3, role: "assistant" }),
  message({ id: 5, parent_id: 1, role: "assistant" }),
  message({ id: 6, parent_id: 2, role: "user" }),
];
const ids = (list: { id: number }[]) => list.map((m) => m.id);

describe("the message tree", () => {
  it("shows the branch from the leaf up through parent_id to a root", () => {
    expect(ids(branchOf({ messages, leafId: 4 }))).toEqual([1, 2, 3, 4]);
    expect(ids(branchOf({ messages, leafId: 6 }))).toEqual([1, 2, 6]);
    expect(ids(branchOf({ messages, leafId: 5 }))).toEqual([1, 5]);
  });

  it("shows a flat record (no leaf) whole, with no versions", () => {
    const flat = [message({ id: 1, role: "user" }), message({ id: 2, role: "assistant" }), message({ id: 3, role: "user" })];
    expect(ids(branchOf({ messages: flat, leafId: null }))).toEqual([1, 2, 3]);
    expect(ids(versionsOf({ messages: flat, leafId: null }, flat[2]))).toEqual([3]);
  });

  it("finds a message's versions: same parent, same role", () => {
    expect(ids(versionsOf({ messages, leafId: 4 }, messages[2]))).toEqual([3, 6]);
    expect(ids(versionsOf({ messages, leafId: 4 }, messages[1]))).toEqual([2, 5]);
    expect(ids(versionsOf({ messages, leafId: 4 }, messages[0]))).toEqual([1]);
  });

  it("walks down by the newest children, as the server does when switching", () => {
    expect(newestLeafUnder(messages, 2)).toBe(6);
    expect(newestLeafUnder(messages, 3)).toBe(4);
    expect(newestLeafUnder(messages, 1)).toBe(5);
    expect(newestLeafUnder(messages, 4)).toBe(4);
  });

  it("adds a message, or puts it in place of the one with its id", () => {
    const changed = withMessage(messages, message({ id: 4, parent_id: 3, role: "assistant", content: "new" }));
    expect(changed).toHaveLength(6);
    expect(changed[3].content).toBe("new");
    expect(ids(withMessage(messages, message({ id: 7, parent_id: 4, role: "user" })))).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it("counts characters as the server does", () => {
    expect(characterCount("Tea 🍵")).toBe(5);
    expect(characterCount("차 한 잔")).toBe(5);
  });
});
