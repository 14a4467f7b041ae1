/**
 * A conversation's messages form a tree: an edit or a regeneration is a sibling (same parent) of the
 * message it replaces. The branch shown runs from the current leaf up through `parent_id` to a root.
 */
import type { Message } from "../api";

export interface MessageTree {
  /** Every message of every branch, oldest first (as the server sends them). */
  messages: Message[];
  /** The branch's last message; null: no messages yet, or a flat record (/v1 calls) shown whole. */
  leafId: number | null;
}

export const EMPTY_TREE: MessageTree = { messages: [], leafId: null };

/** The messages from a root down to the leaf; every message, in order, when there is no leaf. */
export function branchOf({ messages, leafId }: MessageTree): Message[] {
  if (leafId === null) return messages;
  const byId = new Map(messages.map((message) => [message.id, message]));
  const path: Message[] = [];
  let node = byId.get(leafId);
  while (node && path.length <= messages.length) {
    // the bound stops a cycle, which the server never makes
    path.push(node);
    node = node.parent_id == null ? undefined : byId.get(node.parent_id);
  }
  return path.reverse();
}

/**
 * The versions of a message: those with its parent and its role (itself included), oldest first.
 * A flat record has no versions (its messages have no parents, yet are no siblings).
 */
export function versionsOf({ messages, leafId }: MessageTree, message: Message): Message[] {
  if (leafId === null) return [message];
  const parent = message.parent_id ?? null;
  return messages.filter((other) => (other.parent_id ?? null) === parent && other.role === message.role);
}

/** The tree with `message` added, or put in place of the stored one with its id. */
export function withMessage(messages: Message[], message: Message): Message[] {
  const index = messages.findIndex((other) => other.id === message.id);
  if (index < 0) return [...messages, message];
  const next = messages.slice();
  next[index] = message;
  return next;
}

/** Whether the server is still writing this answer: the page follows its stream. */
export const isBeingWritten = (message: Message | undefined): boolean =>
  message?.role === "assistant" && (message.status === "generating" || message.status === "stopping");

/** A text's length as the server counts it (code points, not UTF-16 units): the stream's offsets. */
export const characterCount = (text: string): number => Array.from(text).length;

/** Where showing `messageId` lands: down from it by the newest child each time, to a leaf (as the server walks). */
export function newestLeafUnder(messages: Message[], messageId: number): number {
  const newestChild = new Map<number, number>();
  for (const message of messages) {
    if (message.parent_id != null) newestChild.set(message.parent_id, Math.max(newestChild.get(message.parent_id) ?? 0, message.id));
  }
  let node = messageId;
  for (let steps = 0; newestChild.has(node) && steps <= messages.length; steps++) node = newestChild.get(node)!;
  return node;
}
