import { cleanup, fireEvent, screen, waitFor, within } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { reasonText } from "./strings";
import { admin, classA, fakeBackend, json, operator, renderArea, type Call } from "./testing";

const kim = {
  id: 11, email: "kim@example.com", nickname: "Kim", role: "member", joined_at: "2026-03-02T09:00:00Z",
  requests_today: 5, daily_limit: 5, daily_limit_source: "group", tokens_this_month: 1234,
};
const op = {
  id: 2, email: "op@example.com", nickname: "Op", role: "operator", joined_at: "2026-03-01T09:00:00Z",
  requests_today: 1, daily_limit: 5, daily_limit_source: "group", tokens_this_month: 0,
};
const invite = {
  id: 4, code: "AbC123", url: "http://haru.test/#/join/AbC123", expires_at: null, max_uses: 30, uses: 2,
  created_at: "2026-03-01T09:00:00Z",
};

let clipboard: string[];
beforeEach(() => {
  localStorage.clear();
  clipboard = [];
  Object.defineProperty(navigator, "clipboard", {
    configurable: true,
    value: { writeText: vi.fn(async (text: string) => void clipboard.push(text)) },
  });
});
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

/** jsdom's File has no text(): read it the old way. */
const readText = (blob: Blob) =>
  new Promise<string>((done) => {
    const reader = new FileReader();
    reader.onload = () => done(String(reader.result));
    reader.readAsText(blob);
  });

const sent = (calls: Call[], method: string) => calls.filter((c) => c.method === method);

describe("a group's members", () => {
  it("lists today's use against the limit and this month's tokens", async () => {
    fakeBackend(operator, { "GET /api/groups/7": json(classA), "GET /api/groups/7/members": json([op, kim]) });
    renderArea("/groups/7");
    await screen.findByRole("heading", { name: "Class A" });
    expect(screen.getByRole("link", { name: "Members" }).getAttribute("aria-current")).toBe("page");
    const row = within(await screen.findByRole("row", { name: /Kim/ }));
    expect(row.getByText("5 of 5")).toBeTruthy();
    expect(row.getByText("1,234 of 10,000")).toBeTruthy();
    expect(row.getByText("Member")).toBeTruthy();
    // An operator may not remove another operator: no button on that row.
    expect(within(screen.getByRole("row", { name: /op@example.com/ })).queryByRole("button")).toBeNull();
    expect(screen.queryByRole("combobox")).toBeNull(); // only admins choose a role
  });

  it("adds an account by email and says clearly when there is none", async () => {
    let members = [op];
    const calls = fakeBackend(admin, {
      "GET /api/groups/7": json(classA),
      "GET /api/groups/7/members": () => json(members),
      "POST /api/groups/7/members": (call) => {
        const email = (call.body as { email: string }).email;
        if (email !== "kim@example.com") return json({ detail: "No account has this email.", code: "unknown_member" }, 400);
        members = [op, kim];
        return json(kim, 201);
      },
    });
    renderArea("/groups/7");
    const form = await screen.findByRole("form", { name: "Add a member" });
    fireEvent.change(within(form).getByLabelText("Email"), { target: { value: "nobody@example.com" } });
    fireEvent.click(within(form).getByRole("button", { name: "Add" }));
    expect((await screen.findByRole("alert")).textContent).toContain("No account has this email. Send them an invite link");
    fireEvent.change(within(form).getByLabelText("Email"), { target: { value: "kim@example.com" } });
    fireEvent.change(within(form).getByLabelText("Role"), { target: { value: "operator" } });
    fireEvent.click(within(form).getByRole("button", { name: "Add" }));
    expect((await screen.findByText("Kim is in the group.")).getAttribute("role")).toBe("status");
    await screen.findByRole("row", { name: /Kim/ });
    expect(sent(calls, "POST").map((c) => c.body)).toEqual([
      { email: "nobody@example.com" },
      { email: "kim@example.com", role: "operator" },
    ]);
  });

  it("points an operator to an invite link instead of adding an account by email", async () => {
    const calls = fakeBackend(operator, {
      "GET /api/groups/7": json(classA),
      "GET /api/groups/7/members": json([op, kim]),
      "GET /api/groups/7/invites": json([]),
    });
    renderArea("/groups/7");
    const hint = await screen.findByRole("region", { name: "Add a member" });
    expect(hint.textContent).toContain("send them an invite link");
    expect(screen.queryByRole("form", { name: "Add a member" })).toBeNull();
    expect(screen.queryByLabelText("Email")).toBeNull();
    expect(within(hint).getByRole("link", { name: "Import a CSV file" }).getAttribute("href")).toBe("/groups/7/import");
    fireEvent.click(within(hint).getByRole("link", { name: "Create an invite link" }));
    expect(await screen.findByText("No live invite links.")).toBeTruthy();
    expect(sent(calls, "POST")).toEqual([]);
  });

  it("removes a member only after confirming", async () => {
    let members = [op, kim];
    const calls = fakeBackend(admin, {
      "GET /api/groups/7": json(classA),
      "GET /api/groups/7/members": () => json(members),
      "DELETE /api/groups/7/members/11": () => {
        members = [op];
        return json(null, 204);
      },
    });
    const confirm = vi.spyOn(window, "confirm").mockReturnValueOnce(false).mockReturnValueOnce(true);
    renderArea("/groups/7");
    const remove = await screen.findByRole("button", { name: "Remove Kim from the group" });
    fireEvent.click(remove);
    expect(confirm).toHaveBeenCalledWith("Remove Kim from Class A? Their account and history stay.");
    expect(sent(calls, "DELETE")).toEqual([]);
    fireEvent.click(remove);
    await waitFor(() => expect(screen.queryByRole("row", { name: /Kim/ })).toBeNull());
    expect(sent(calls, "DELETE").map((c) => c.path)).toEqual(["/api/groups/7/members/11"]);
  });

  it("shows the empty state, and a 404 as a group that isn't yours", async () => {
    fakeBackend(operator, { "GET /api/groups/7": json(classA), "GET /api/groups/7/members": json([]) });
    renderArea("/groups/7");
    expect((await screen.findByText(/No members yet/)).textContent).toBe("No members yet. Send an invite link, or import a CSV.");
    cleanup();
    fakeBackend(operator, { "GET /api/groups/8": json({ detail: "Not found.", code: "not_found" }, 404) });
    renderArea("/groups/8");
    expect((await screen.findByRole("alert")).textContent).toContain("No such group, or it isn't yours to run.");
  });
});

describe("a group's invites", () => {
  it("creates a link with a maximum of uses, copies it and revokes it", async () => {
    let invites: (typeof invite)[] = [];
    const calls = fakeBackend(operator, {
      "GET /api/groups/7": json(classA),
      "GET /api/groups/7/invites": () => json(invites),
      "POST /api/groups/7/invites": () => {
        invites = [invite];
        return json(invite, 201);
      },
      "DELETE /api/groups/7/invites/4": () => json(null, 204),
    });
    vi.spyOn(window, "confirm").mockReturnValue(true);
    renderArea("/groups/7/invites");
    expect(await screen.findByText("No live invite links.")).toBeTruthy();
    fireEvent.change(screen.getByLabelText("Maximum uses (optional)"), { target: { value: "30" } });
    fireEvent.change(screen.getByLabelText("Expires (optional)"), { target: { value: "2026-12-01T18:00" } });
    fireEvent.click(screen.getByRole("button", { name: "Create link" }));
    const link = (await screen.findByLabelText("Invite link AbC123")) as HTMLInputElement;
    expect(link.value).toBe("http://haru.test/#/join/AbC123");
    expect(screen.getByText(/Used 2 of 30/)).toBeTruthy();
    expect(sent(calls, "POST")[0].body).toEqual({ max_uses: 30, expires_at: new Date("2026-12-01T18:00").toISOString() });

    fireEvent.click(screen.getByRole("button", { name: "Copy link AbC123" }));
    expect(await screen.findByText("Copied.")).toBeTruthy();
    expect(clipboard).toEqual(["http://haru.test/#/join/AbC123"]);

    fireEvent.click(screen.getByRole("button", { name: "Revoke invite AbC123" }));
    expect(await screen.findByText("No live invite links.")).toBeTruthy();
    expect(sent(calls, "DELETE").map((c) => c.path)).toEqual(["/api/groups/7/invites/4"]);
  });
});

describe("the CSV import", () => {
  const rows = [
    { line: 2, email: "new@example.com", nickname: "New", role: "member", action: "created", reason: null },
    { line: 3, email: "kim@example.com", nickname: "Kim", role: "member", action: "added", reason: null },
    { line: 4, email: "kim@example.com", nickname: "Kim", role: "member", action: "skipped", reason: "the same email is on line 3" },
  ];

  it("checks first (a dry run, row by row), then imports and shows the set-password links to hand out", async () => {
    const uploads: { path: string; file: string }[] = [];
    const calls = fakeBackend(operator, {
      "GET /api/groups/7": json(classA),
      "GET /api/groups/7/members": json([]),
      "POST /api/groups/7/members/import": async (call, init) => {
        const form = init.body as FormData;
        uploads.push({ path: call.path, file: await readText(form.get("file") as File) });
        const dryRun = call.path.endsWith("?dry_run=true");
        const reported = rows.map((row) => ({
          ...row,
          set_password_url: !dryRun && row.action === "created" ? "http://haru.test/#/reset/tok-1" : null,
        }));
        return json({ dry_run: dryRun, created: 1, added: 1, skipped: 1, rows: reported });
      },
    });
    renderArea("/groups/7/import");
    const check = await screen.findByRole("button", { name: "Check" });
    expect((check as HTMLButtonElement).disabled).toBe(true);
    const csv = "email,nickname\nnew@example.com,New\nkim@example.com,Kim\nkim@example.com,Kim\n";
    fireEvent.change(screen.getByLabelText("CSV file"), { target: { files: [new File([csv], "class.csv", { type: "text/csv" })] } });
    fireEvent.click(check);
    expect((await screen.findByText(/Check only, nothing changed/)).textContent).toBe(
      "Check only, nothing changed: 1 would be created, 1 added, 1 skipped.",
    );
    expect(within(screen.getByRole("row", { name: /new@example.com/ })).getByText("would be created")).toBeTruthy();
    expect(screen.getByText("the same email is on line 3")).toBeTruthy();
    expect(screen.queryByText("Set-password link")).toBeNull();

    fireEvent.click(screen.getByRole("button", { name: "Import" }));
    expect(await screen.findByText("Imported: 1 created, 1 added, 1 skipped.")).toBeTruthy();
    const link = screen.getByLabelText("Set-password link: new@example.com") as HTMLInputElement;
    expect(link.value).toBe("http://haru.test/#/reset/tok-1");
    fireEvent.click(screen.getByRole("button", { name: "Copy link for new@example.com" }));
    await waitFor(() => expect(clipboard).toEqual(["http://haru.test/#/reset/tok-1"]));
    fireEvent.click(screen.getByRole("button", { name: "Copy all links" }));
    await waitFor(() => expect(clipboard[1]).toBe("new@example.com\thttp://haru.test/#/reset/tok-1"));

    expect(uploads).toEqual([
      { path: "/api/groups/7/members/import?dry_run=true", file: csv },
      { path: "/api/groups/7/members/import", file: csv },
    ]);
    // The upload is a multipart form: the client must not label it JSON.
    const headers = new Headers(vi.mocked(fetch).mock.calls.find(([url]) => String(url).includes("import"))![1]!.headers);
    expect(headers.get("Content-Type")).toBeNull();
    expect(calls.length).toBeGreaterThan(0);
  });

  it("words the reasons in Korean, an existing account in an operator's import among them", () => {
    expect(reasonText("ko", "already has an account: send them an invite link")).toBe("이미 계정이 있음: 초대 링크를 보내세요");
    expect(reasonText("en", "already has an account: send them an invite link")).toBe("already has an account: send them an invite link");
  });

  it("says what is wrong with a file, in Korean too", async () => {
    fakeBackend(operator, {
      "GET /api/groups/7": json(classA),
      "POST /api/groups/7/members/import": json({ detail: "The CSV file's first line…", code: "csv_no_email_column" }, 400),
    });
    renderArea("/groups/7/import", "ko");
    const check = await screen.findByRole("button", { name: "확인" });
    fireEvent.change(screen.getByLabelText("CSV 파일"), { target: { files: [new File(["name\nx"], "x.csv")] } });
    fireEvent.click(check);
    expect((await screen.findByRole("alert")).textContent).toContain("파일의 첫 줄에 열 이름이 있어야 하고");
  });
});

describe("a group's settings", () => {
  const assistants = [
    { id: 1, slug: "free-chat", name: "Free chat", name_ko: "자유 대화", questions: [] },
    { id: 2, slug: "meditation", name: "Meditation guide", name_ko: "명상 가이드", questions: [] },
  ];

  it("saves limits and the allowed models and assistants (none checked: all)", async () => {
    const calls = fakeBackend(operator, {
      "GET /api/groups/7": json(classA),
      "GET /api/models": json({ default: "smollm2", models: ["smollm2", "gpt-4o-mini"], provider: "local" }),
      "GET /api/assistants": json(assistants),
      "PATCH /api/groups/7": (call) => json({ ...classA, ...(call.body as object), models: ["gpt-4o-mini"], assistants: ["meditation"] }),
    });
    renderArea("/groups/7/settings");
    const models = await screen.findByRole("group", { name: "Allowed models" });
    expect(within(models).getByText("None checked: all are allowed.")).toBeTruthy();
    fireEvent.click(within(models).getByLabelText("gpt-4o-mini"));
    fireEvent.click(within(screen.getByRole("group", { name: "Allowed assistants" })).getByLabelText("Meditation guide"));
    fireEvent.change(screen.getByLabelText("Daily requests per member"), { target: { value: "" } });
    fireEvent.change(screen.getByLabelText("Monthly tokens per member"), { target: { value: "50000" } });
    expect(screen.queryByRole("group", { name: "Operators" })).toBeNull(); // admins only
    expect(screen.queryByRole("button", { name: "Delete group" })).toBeNull();
    fireEvent.click(screen.getByRole("button", { name: "Save" }));
    expect(await screen.findByText("Saved.")).toBeTruthy();
    expect(sent(calls, "PATCH")[0].body).toEqual({
      name: "Class A",
      description: "Morning cohort",
      daily_limit: null,
      monthly_token_budget: 50000,
      models: ["gpt-4o-mini"],
      assistants: ["meditation"],
    });
  });

  it("lets an admin name operators among the members and delete the group", async () => {
    const calls = fakeBackend(admin, {
      "GET /api/groups/7": json(classA),
      "GET /api/groups": json([]),
      "GET /api/groups/7/members": json([op, kim]),
      "GET /api/models": json({ default: "smollm2", models: ["smollm2"], provider: "local" }),
      "GET /api/assistants": json(assistants),
      "PATCH /api/groups/7": (call) => json({ ...classA, ...(call.body as object), operators: [] }),
      "DELETE /api/groups/7": () => json(null, 204),
    });
    vi.spyOn(window, "confirm").mockReturnValue(true);
    renderArea("/groups/7/settings", "ko");
    const operators = await screen.findByRole("group", { name: "운영자" });
    const kimBox = (await within(operators).findByLabelText(/Kim/)) as HTMLInputElement;
    expect((within(operators).getByLabelText(/Op/) as HTMLInputElement).checked).toBe(true);
    expect(kimBox.checked).toBe(false);
    fireEvent.click(kimBox);
    expect(within(screen.getByRole("group", { name: "허용 어시스턴트" })).getByLabelText("명상 가이드")).toBeTruthy();
    fireEvent.click(screen.getByRole("button", { name: "저장" }));
    await screen.findByText("저장했습니다.");
    expect((sent(calls, "PATCH")[0].body as { operators: number[] }).operators).toEqual([2, 11]);

    fireEvent.click(screen.getByRole("button", { name: "그룹 삭제" }));
    await screen.findByText("아직 그룹이 없습니다.");
    expect(sent(calls, "DELETE").map((c) => c.path)).toEqual(["/api/groups/7"]);
  });
});

describe("the group's conversations archive", () => {
  const registration = (operatorReadsHistory: boolean) =>
    json({ mode: "open", domains: [], operator_reads_history: operatorReadsHistory });

  it("lets an admin download the zip with their token and says members will see it", async () => {
    const created = vi.fn(() => "blob:zip");
    vi.stubGlobal("URL", Object.assign(URL, { createObjectURL: created, revokeObjectURL: vi.fn() }));
    const calls = fakeBackend(admin, {
      "GET /api/groups/7": json(classA),
      "GET /api/groups/7/members": json([op, kim]),
      "GET /api/auth/registration": registration(false),
      "GET /api/groups/7/export": () =>
        new Response(new Blob(["PK"]), {
          headers: { "Content-Type": "application/zip", "Content-Disposition": 'attachment; filename="haruchat-group-7-20261203.zip"' },
        }),
    });
    renderArea("/groups/7");
    fireEvent.click(await screen.findByRole("button", { name: "Download conversations (zip)" }));
    await waitFor(() => expect(created).toHaveBeenCalled());
    expect(sent(calls, "GET").some((c) => c.path === "/api/groups/7/export")).toBe(true);
    expect(screen.getByText(/Each member sees this download on their Account page/)).toBeTruthy();
  });

  it("is not offered to an operator unless the history policy lets operators read", async () => {
    fakeBackend(operator, {
      "GET /api/groups/7": json(classA),
      "GET /api/groups/7/members": json([op, kim]),
      "GET /api/auth/registration": registration(false),
    });
    renderArea("/groups/7");
    await screen.findByRole("row", { name: /Kim/ });
    expect(screen.queryByRole("button", { name: "Download conversations (zip)" })).toBeNull();
    cleanup();
    fakeBackend(operator, {
      "GET /api/groups/7": json(classA),
      "GET /api/groups/7/members": json([op, kim]),
      "GET /api/auth/registration": registration(true),
    });
    renderArea("/groups/7", "ko");
    expect(await screen.findByRole("button", { name: "대화 내려받기 (zip)" })).toBeTruthy();
  });
});
