// @vitest-environment node
/**
 * schema.d.ts is openapi-typescript's output for openapi.json (the backend's
 * schema), generated as `make api-types` does, so the API types never go stale.
 */
import { readFileSync } from "node:fs";
import openapiTS, { astToString, COMMENT_HEADER } from "openapi-typescript";
import { describe, expect, it } from "vitest";

describe("the generated API types", () => {
  it("match the committed OpenAPI schema", async () => {
    const schema = new URL("./openapi.json", import.meta.url);
    // The options of package.json's `api-types` script: a field with a default is optional in a request.
    const ast = await openapiTS(schema, { defaultNonNullable: false, silent: true });
    const generated = COMMENT_HEADER + astToString(ast);
    const committed = readFileSync(new URL("./schema.d.ts", import.meta.url), "utf8");
    expect(committed, "src/api/schema.d.ts is stale: run `make api-types` and commit it.").toBe(generated);
  }, 30_000);
});
