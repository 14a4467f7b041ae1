/**
 * Branches and answers that outlive the page, in real headless Chromium against a real backend. The
 * embedded model answers too fast to refresh or stop in the middle of an answer, so this file starts
 * a backend of its own whose model is the fake OpenAI-compatible upstream (backend/testing/
 * fake_upstream.py), made as slow as a test needs through its switches (POST /_control).
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, BrowserContext, Locator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, python, repo, waitForHealth, waitForPort } from "./backend";
import { launch, screenshot } from "./browser";
import { apiCall } from "./http";

const member = { email: `branches-${Date.now()}@example.com`, password: "a branching pass phrase", nickname: "Branchy" };
// An answer whose every word is different, so a repeated piece shows; slow: 48 pieces, 0.12 s apart (~6 s).
const SLOW_REPLY = `Counting: ${Array.from({ length: 60 }, (_, n) => `w${String(n + 1).padStart(2, "0")}`).join(" ")}.`;
const SLOW = { reply: SLOW_REPLY, chunks: 48, chunk_delay: 0.12 };

let upstream: ChildProcess;
let backend: ChildProcess;
let varDir: string;
let upstreamUrl: string;
let baseUrl: string;
let access: string;
let browser: Browser;
let context: BrowserContext;
let page: Page;

const call = <T>(path: string, body: unknown, token?: string) => apiCall<T>(baseUrl, path, { method: "POST", body, token });

/** Sets the fake model's switches (after putting them all back). */
async function model(switches: Record<string, unknown> = {}) {
  await fetch(`${upstreamUrl}/_control/reset`, { method: "POST" });
  const response = await fetch(`${upstreamUrl}/_control`, { method: "POST", body: JSON.stringify(switches) });
  if (!response.ok) throw new Error(`fake upstream: ${await response.text()}`);
}

async function logIn(target: Page, origin = baseUrl) {
  await target.goto(`${origin}/#/login`);
  await target.getByLabel("Email").fill(member.email);
  await target.getByLabel("Password").fill(member.password);
  await target.getByRole("button", { name: "Log in" }).click();
  await target.locator(".sidebar").waitFor();
}

/** A new conversation, opened in `target`. */
async function openNewConversation(target: Page = page, origin = baseUrl): Promise<number> {
  const { id } = await call<{ id: number }>("/api/conversations", { assistant: "free-chat" }, access);
  await target.goto(`${origin}/#/c/${id}`);
  await target.getByRole("heading", { name: "New conversation" }).waitFor();
  return id;
}

async function send(text: string, target: Page = page) {
  const composer = target.getByLabel("Message (Enter to send, Shift+Enter for a new line)");
  await composer.fill(text);
  await composer.press("Enter");
}

const answerDone = (target: Page = page) => target.getByTestId("streaming").waitFor({ state: "detached", timeout: 60_000 });
const messageText = (item: Locator) => item.locator(".plain, .markdown").first().innerText();
const userMessages = () => page.locator(".message.user");
const answers = () => page.locator(".message.assistant");

/** A loopback proxy in front of the backend whose connections the test cuts, as a network drop does. */
async function cuttableProxy(target: string) {
  const { port: targetPort } = new URL(target);
  const sockets = new Set<Socket>();
  const keep = (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => undefined);
  };
  const server = createServer((client) => {
    const upstream = connect(Number(targetPort), "127.0.0.1");
    keep(client);
    keep(upstream);
    client.pipe(upstream).pipe(client);
  });
  const port = await new Promise<number>((done) =>
    server.listen(0, "127.0.0.1", () => done((server.address() as { port: number }).port)),
  );
  return {
    url: `http://127.0.0.1:${port}`,
    cut: () => sockets.forEach((socket) => socket.destroy()),
    close: () => new Promise((done) => server.close(done)),
  };
}

/** From now on, every error the page shows, even for a moment (an answer picked up again hides one). */
async function recordAlerts(target: Page = page) {
  await target.evaluate(() => {
    const seen: string[] = [];
    (window as unknown as { alertsShown: string[] }).alertsShown = seen;
    new MutationObserver(() =>
      document.querySelectorAll("[role=alert]").forEach((alert) => seen.push(alert.textContent ?? "")),
    ).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
}
const alertsShown = (target: Page = page) =>
  target.evaluate(() => (window as unknown as { alertsShown: string[] }).alertsShown);

/** The Last-Event-ID of every request that follows an answer ("" when it had none), from now on. */
function followRequests(target: Page = page): { ids: string[]; stop: () => void } {
  const ids: string[] = [];
  const listener = (request: import("playwright-core").Request) => {
    if (request.url().endsWith("/stream")) ids.push(request.headers()["last-event-id"] ?? "");
  };
  target.on("request", listener);
  return { ids, stop: () => target.off("request", listener) };
}

/**
 * Reads the answer being written until it is done: every reading must be the start of `whole` (a
 * repeated piece would not be); returns the readings.
 */
async function watchUntilDone(whole: string, target: Page = page): Promise<string[]> {
  const readings: string[] = [];
  const live = target.getByTestId("streaming");
  while ((await live.count()) > 0) {
    const text = (await live.innerText().catch(() => "")).trim();
    if (text && text !== "Thinking…") {
      expect(whole.startsWith(text), `shown: ${JSON.stringify(text)}`).toBe(true);
      readings.push(text);
    }
    await target.waitForTimeout(80);
  }
  return readings;
}

beforeAll(async () => {
  const upstreamPort = await freePort();
  upstreamUrl = `http://127.0.0.1:${upstreamPort}`;
  upstream = spawn(python, ["-m", "testing.fake_upstream", "--port", String(upstreamPort)], {
    cwd: join(repo, "backend"),
    stdio: ["ignore", "ignore", "inherit"],
  });
  await waitForPort(upstreamPort, upstream);

  varDir = mkdtempSync(join(tmpdir(), "haruchat-e2e-branches-"));
  const env = {
    ...process.env,
    DATABASE_URL: "",
    HARUCHAT_VAR_DIR: varDir,
    HARUCHAT_WEB_APP_DIR: join(repo, "frontend/dist"),
    HARUCHAT_LLM_PROVIDER: "openai_compat",
    HARUCHAT_LLM_BASE_URL: `${upstreamUrl}/v1`,
    HARUCHAT_LLM_API_KEY: "sk-test",
    HARUCHAT_LLM_MODEL: "fake-model",
    HARUCHAT_LLM_MODELS: "fake-model",
    HARUCHAT_DAILY_LIMIT: "100",
    HARUCHAT_SIGNUP_MAX_PER_IP: "1000",
    HARUCHAT_LOG_LEVEL: "WARNING",
  };
  const migrate = spawnSync(python, ["backend/manage.py", "migrate", "--noinput", "-v0"], { cwd: repo, env });
  if (migrate.status !== 0) throw new Error(`migrate failed: ${migrate.stderr}`);
  const port = await freePort();
  backend = spawn(
    join(repo, ".venv/bin/uvicorn"),
    ["config.asgi:application", "--app-dir", "backend", "--host", "127.0.0.1", "--port", String(port), "--log-level", "warning"],
    { cwd: repo, env, stdio: ["ignore", "inherit", "inherit"] },
  );
  baseUrl = `http://127.0.0.1:${port}`;
  await waitForHealth(baseUrl, backend);

  ({ access } = await call<{ access: string }>("/api/auth/signup", member));
  browser = await launch();
  context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: "en-US", colorScheme: "light" });
  page = await context.newPage();
  await logIn(page);
});

afterAll(async () => {
  await browser?.close();
  const stopped = backend && backend.exitCode === null ? new Promise((resolve) => backend.once("exit", resolve)) : null;
  backend?.kill("SIGTERM");
  upstream?.kill("SIGTERM");
  await stopped;
  if (varDir) rmSync(varDir, { recursive: true, force: true });
});

describe("branches", () => {
  it("edits a message: the edit shows as 2 / 2 with its own answer, and the first version is one click back", async () => {
    await model();
    await openNewConversation();
    await send("Tell me about tea");
    await answerDone();
    expect(await messageText(answers().last())).toBe("Echo: Tell me about tea");

    await userMessages().first().getByRole("button", { name: "Edit message" }).click();
    const editor = page.getByLabel("Edit your message (Ctrl+Enter to send, Escape to cancel)");
    expect(await editor.inputValue()).toBe("Tell me about tea");
    await editor.fill("Tell me about coffee");
    const followed = followRequests();
    await editor.press("Control+Enter");
    await answers().last().getByText("Echo: Tell me about coffee").waitFor();
    await answerDone();
    followed.stop();
    expect(followed.ids).toEqual([]); // streamed by its own request
    expect(await userMessages().count()).toBe(1);
    expect(await messageText(userMessages().first())).toBe("Tell me about coffee");
    const versions = userMessages().first().getByRole("group", { name: "Version 2 of 2" });
    expect(await versions.innerText()).toContain("2 / 2");

    await versions.getByRole("button", { name: "Previous version" }).click();
    await userMessages().first().getByRole("group", { name: "Version 1 of 2" }).waitFor();
    expect(await messageText(userMessages().first())).toBe("Tell me about tea");
    expect(await messageText(answers().last())).toBe("Echo: Tell me about tea");

    // The server keeps the branch chosen: a reload shows it; the arrow keys switch too.
    await page.reload();
    await userMessages().first().getByRole("group", { name: "Version 1 of 2" }).waitFor();
    await userMessages().first().getByRole("button", { name: "Next version" }).focus();
    await page.keyboard.press("ArrowRight");
    await userMessages().first().getByRole("group", { name: "Version 2 of 2" }).waitFor();
    expect(await messageText(answers().last())).toBe("Echo: Tell me about coffee");
  });

  it("cancels an edit with Escape, leaving the message as it was", async () => {
    await userMessages().first().getByRole("button", { name: "Edit message" }).click();
    const editor = page.getByLabel("Edit your message (Ctrl+Enter to send, Escape to cancel)");
    await editor.fill("Never mind");
    await editor.press("Escape");
    await editor.waitFor({ state: "detached" });
    expect(await messageText(userMessages().first())).toBe("Tell me about coffee");
    expect(await userMessages().first().getByRole("group").getAttribute("aria-label")).toBe("Version 2 of 2");
  });

  it("regenerates an answer: the new one shows as 2 / 2, the first one a click back", async () => {
    await model({ reply: "Coffee, another way." });
    const followed = followRequests();
    await recordAlerts();
    await answers().last().getByRole("button", { name: "Regenerate answer" }).click();
    await answers().last().getByText("Coffee, another way.").waitFor();
    await answerDone();
    followed.stop();
    // Streamed by its own request, not picked up again after a failure.
    expect(followed.ids).toEqual([]);
    expect(await alertsShown()).toEqual([]);
    const versions = answers().last().getByRole("group", { name: "Version 2 of 2" });
    await versions.waitFor();
    await versions.getByRole("button", { name: "Previous version" }).click();
    await answers().last().getByText("Echo: Tell me about coffee").waitFor();
    // The member's message keeps its own versions.
    expect(await userMessages().first().getByRole("group").getAttribute("aria-label")).toBe("Version 2 of 2");
  });
});

describe("answers that outlive the page", () => {
  it("continues an answer after a refresh in the middle of it, to the end, without repeating text", async () => {
    await model(SLOW);
    await openNewConversation();
    const resumed = followRequests();
    await send("Count for me");
    await page.getByTestId("streaming").getByText(/w05/).waitFor({ timeout: 30_000 });
    await page.reload();
    await page.getByTestId("streaming").waitFor();
    const readings = await watchUntilDone(SLOW_REPLY);
    expect(readings.length).toBeGreaterThan(3); // followed live, not just shown at the end
    expect(readings[0]).toMatch(/w0[1-9]/); // the text so far came back with the page
    resumed.stop();
    expect(resumed.ids).toHaveLength(1);
    expect(Number(resumed.ids[0])).toBeGreaterThan(0); // from the characters it had
    expect(await messageText(answers().last())).toBe(SLOW_REPLY);
    expect(await page.getByRole("button", { name: "Send" }).count()).toBe(1);
  });

  it("picks an answer up again after the connection drops, without repeating text", async () => {
    await model(SLOW);
    const proxy = await cuttableProxy(baseUrl);
    const far = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: "en-US" });
    const remote = await far.newPage();
    await logIn(remote, proxy.url);
    await openNewConversation(remote, proxy.url);
    const resumed = followRequests(remote);
    await send("Count again", remote);
    await remote.getByTestId("streaming").getByText(/w05/).waitFor({ timeout: 30_000 });
    proxy.cut(); // every connection, the answer's among them
    await watchUntilDone(SLOW_REPLY, remote);
    resumed.stop();
    expect(await messageText(remote.locator(".message.assistant").last())).toBe(SLOW_REPLY);
    expect(resumed.ids.length).toBeGreaterThan(0); // the answer's own stream took over
    expect(Number(resumed.ids[0])).toBeGreaterThan(0); // from the characters it had
    expect(await remote.getByRole("alert").count()).toBe(0);
    await far.close();
    await proxy.close();
  });

  it("stops an answer: it keeps the text up to then, says so, and stays stopped after a reload", async () => {
    await model(SLOW);
    await openNewConversation();
    await send("Count, then stop");
    await page.getByTestId("streaming").getByText(/w03/).waitFor({ timeout: 30_000 });
    await page.getByRole("button", { name: "Stop" }).click();
    await answerDone();
    const answer = answers().last();
    await answer.getByText("Stopped", { exact: true }).waitFor();
    const kept = await messageText(answer);
    expect(SLOW_REPLY.startsWith(kept)).toBe(true);
    expect(kept.length).toBeLessThan(SLOW_REPLY.length);
    expect(await page.getByRole("button", { name: "Send" }).count()).toBe(1);

    await page.waitForTimeout(1500); // long enough for more text, had the model gone on
    await page.reload();
    await answers().last().getByText("Stopped", { exact: true }).waitFor();
    expect(await messageText(answers().last())).toBe(kept);
  });
});

describe("how it looks", () => {
  it("shows a conversation with branches on a desktop and a phone, light and dark", async () => {
    await model({ reply: "Green tea is **gently grassy**; black tea is *malty* and strong.\n\n- steep green at 80 °C\n- black at 95 °C" });
    const id = await openNewConversation();
    await send("Which tea should I try?");
    await answerDone();
    await userMessages().first().getByRole("button", { name: "Edit message" }).click();
    await page.getByLabel("Edit your message (Ctrl+Enter to send, Escape to cancel)").fill("Which tea is best in the evening?");
    await page.keyboard.press("Control+Enter");
    await answerDone();
    // Another answer, asked for without the page (the regenerate test clicks): the page shows it on reload.
    await model({ reply: "Rooibos or chamomile: neither has caffeine, so your sleep stays yours." });
    const shown = await (await fetch(`${baseUrl}/api/conversations/${id}`, { headers: { Authorization: `Bearer ${access}` } })).json();
    await call(`/api/conversations/${id}/messages/${shown.current_leaf_id}/regenerate`, {}, access);
    await page.reload();
    await answers().last().getByRole("group", { name: "Version 2 of 2" }).waitFor();
    await model(SLOW);
    await send("And how long should it steep?");
    await page.getByTestId("streaming").getByText(/w04/).waitFor({ timeout: 30_000 });
    await page.getByRole("button", { name: "Stop" }).click();
    await answerDone();
    await userMessages().first().getByRole("group", { name: "Version 2 of 2" }).waitFor();
    await userMessages().last().getByRole("button", { name: "Edit message" }).click(); // the editor, open
    const path = new URL(page.url()).hash;

    for (const scheme of ["light", "dark"] as const) {
      const desktop = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: "en-US", colorScheme: scheme });
      const wide = await desktop.newPage();
      await logIn(wide);
      await wide.goto(`${baseUrl}/${path}`);
      await wide.locator(".branch-switcher").first().waitFor();
      await wide.locator(".message.user").last().getByRole("button", { name: "Edit message" }).click();
      await screenshot(wide, `branches-desktop-${scheme}`);
      await desktop.close();

      const phone = await browser.newContext({
        viewport: { width: 390, height: 844 },
        deviceScaleFactor: 2,
        isMobile: true,
        hasTouch: true,
        locale: "en-US",
        colorScheme: scheme,
      });
      const small = await phone.newPage();
      await logIn(small);
      await small.evaluate(() => localStorage.setItem("haruchat.lang", "ko")); // the phone's pictures in Korean
      await small.goto(`${baseUrl}/${path}`);
      await small.reload();
      await small.locator(".branch-switcher").first().waitFor();
      expect(await small.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
      await screenshot(small, `branches-phone-${scheme}`);
      await small.locator(".message.user").first().getByRole("button", { name: "메시지 수정" }).click();
      await screenshot(small, `branches-phone-editing-${scheme}`);
      await small.getByRole("button", { name: "취소" }).click();
      // An answer on its way: the Stop button in the composer's place.
      await small.locator("#composer").fill("Count slowly");
      await small.locator("#composer").press("Enter");
      await small.getByTestId("streaming").getByText(/w03/).waitFor({ timeout: 30_000 });
      expect(await small.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
      await screenshot(small, `branches-phone-streaming-${scheme}`);
      await small.getByRole("button", { name: "멈추기" }).click();
      await answerDone(small);
      await phone.close();
    }
  });
});
