"""frontend/src/api/openapi.json is the schema the API describes now, so the web app's types never go stale."""

from __future__ import annotations

from django.conf import settings
from django.core.management import call_command

SNAPSHOT = settings.REPO_DIR / "frontend" / "src" / "api" / "openapi.json"


def test_the_committed_openapi_schema_matches_the_api(tmp_path):
    # The same command as `make api-types`, written where nothing committed changes.
    current = tmp_path / "openapi.json"
    call_command("spectacular", "--format", "openapi-json", "--file", str(current))
    assert SNAPSHOT.read_text() == current.read_text(), (
        f"{SNAPSHOT.relative_to(settings.REPO_DIR)} is stale: run `make api-types` and commit it "
        "(it regenerates the web app's types, frontend/src/api/schema.d.ts, too)."
    )
