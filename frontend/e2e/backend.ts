/**
 * Starts a real haruchat backend for the end-to-end tests: uvicorn on a free
 * loopback port, a fresh SQLite database, the embedded model, and the built
 * web app served at /. Nothing is mocked.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    baseUrl: string;
    dailyLimit: number;
    standinUrl: string;
    mailDir: string;
    admin: { email: string; password: string };
  }
}

export const repo = fileURLToPath(new URL("../..", import.meta.url));
export const python = join(repo, ".venv/bin/python");
const DAILY_LIMIT = 3;
const ADMIN = { email: "admin@example.com", password: "an admin's long pass phrase" };

export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? done(address.port) : fail(new Error("no port"))));
    });
  });
}

export async function waitForPort(port: number, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${child.spawnargs.join(" ")} exited with ${child.exitCode}`);
    const open = await new Promise<boolean>((done) => {
      const socket = connect(port, "127.0.0.1", () => {
        socket.end();
        done(true);
      });
      socket.on("error", () => done(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`nothing listens on port ${port}`);
}

export async function waitForHealth(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the backend exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${url}/api/health`)).ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error("the backend did not become healthy");
}

export default async function setup(project: TestProject) {
  if (!existsSync(join(repo, "frontend/dist/index.html"))) throw new Error("Build the web app first: npm run build");
  if (!existsSync(python)) throw new Error("The backend's .venv is missing: run `make test` from the repository root");
  const varDir = mkdtempSync(join(tmpdir(), "haruchat-e2e-"));
  // Stand-ins for GitHub's and Kakao's OAuth servers, on loopback.
  const standinPort = await freePort();
  const standinUrl = `http://127.0.0.1:${standinPort}`;
  const standins = spawn(python, ["-m", "testing.oauth_standins", "--port", String(standinPort)], {
    cwd: join(repo, "backend"),
    stdio: ["ignore", "inherit", "inherit"],
  });
  await waitForPort(standinPort, standins);
  const env = {
    ...process.env,
    HARUCHAT_GITHUB_CLIENT_ID: "standin-client",
    HARUCHAT_GITHUB_CLIENT_SECRET: "standin-secret",
    HARUCHAT_KAKAO_CLIENT_ID: "standin-client",
    HARUCHAT_KAKAO_CLIENT_SECRET: "standin-secret",
    HARUCHAT_GITHUB_URL: standinUrl,
    HARUCHAT_GITHUB_API_URL: `${standinUrl}/api`,
    HARUCHAT_KAKAO_AUTH_URL: standinUrl,
    HARUCHAT_KAKAO_API_URL: standinUrl,
    DATABASE_URL: "",
    HARUCHAT_VAR_DIR: varDir,
    HARUCHAT_WEB_APP_DIR: join(repo, "frontend/dist"),
    HARUCHAT_LLM_PROVIDER: "local",
    HARUCHAT_DAILY_LIMIT: String(DAILY_LIMIT),
    HARUCHAT_SIGNUP_MAX_PER_IP: "1000", // every browser test signs up from this one address
    HARUCHAT_DEFAULT_MAX_TOKENS: "48",
    HARUCHAT_LOG_LEVEL: "WARNING",
    HARUCHAT_EMAIL_URL: `filemail:///${join(varDir, "mail")}`, // the reset test reads the mail sent (absolute path)
  };
  const migrate = spawnSync(python, ["backend/manage.py", "migrate", "--noinput", "-v0"], { cwd: repo, env });
  if (migrate.status !== 0) throw new Error(`migrate failed: ${migrate.stderr}`);
  // An admin (Django staff) for the operator area's tests.
  const admin = spawnSync(
    python,
    ["backend/manage.py", "createsuperuser", "--noinput", "--email", ADMIN.email, "--nickname", "Admin"],
    { cwd: repo, env: { ...env, DJANGO_SUPERUSER_PASSWORD: ADMIN.password } },
  );
  if (admin.status !== 0) throw new Error(`createsuperuser failed: ${admin.stderr}`);
  const port = await freePort();
  const child = spawn(
    join(repo, ".venv/bin/uvicorn"),
    ["config.asgi:application", "--app-dir", "backend", "--host", "127.0.0.1", "--port", String(port), "--log-level", "warning"],
    { cwd: repo, env, stdio: ["ignore", "inherit", "inherit"] },
  );
  const baseUrl = `http://127.0.0.1:${port}`;
  await waitForHealth(baseUrl, child);
  project.provide("baseUrl", baseUrl);
  project.provide("dailyLimit", DAILY_LIMIT);
  project.provide("standinUrl", standinUrl);
  project.provide("mailDir", join(varDir, "mail"));
  project.provide("admin", ADMIN);
  return async () => {
    // The server's files go only once it has stopped (its lifespan still touches the database on the way out).
    const stopped = child.exitCode !== null ? Promise.resolve() : new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    standins.kill("SIGTERM");
    await stopped;
    rmSync(varDir, { recursive: true, force: true });
  };
}
