"""Generate docs/erd.md: a Mermaid entity-relationship diagram of haruchat's models.

The diagram is derived, never drawn by hand, so it can't drift from the
models; a test fails when the committed file is stale (`make erd` fixes it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import models

DIAGRAM_APPS = ("accounts", "chat", "quota", "gateway", "groups")
ERD_PATH = Path(settings.REPO_DIR) / "docs" / "erd.md"

HEADER = """# haruchat: entity-relationship diagram

Generated from the models by `make erd` (`python backend/manage.py erd`); do not edit by hand.
A test fails when this file no longer matches the models.
"""


TYPE_NAMES = {
    "BigAutoField": "bigint",
    "AutoField": "int",
    "BigIntegerField": "bigint",
    "PositiveBigIntegerField": "bigint",
    "IntegerField": "int",
    "PositiveIntegerField": "int",
    "PositiveSmallIntegerField": "smallint",
    "CharField": "string",
    "SlugField": "string",
    "EmailField": "string",
    "TextField": "text",
    "BooleanField": "bool",
    "FloatField": "float",
    "DateField": "date",
    "DateTimeField": "timestamp",
    "JSONField": "json",
}


def _column_type(field: models.Field) -> str:
    if field.is_relation:
        return _column_type(field.target_field)
    internal = field.get_internal_type()
    return TYPE_NAMES.get(internal, internal.removesuffix("Field").lower())


def _markers(field: models.Field) -> str:
    keys = []
    if field.primary_key:
        keys.append("PK")
    if field.is_relation:
        keys.append("FK")
    if field.unique and not field.primary_key:
        keys.append("UK")
    return ", ".join(keys)


def _entity(model: type[models.Model]) -> list[str]:
    lines = [f"    {model.__name__} {{"]
    for field in model._meta.concrete_fields:
        line = f"        {_column_type(field)} {field.column}"
        if markers := _markers(field):
            line += f" {markers}"
        if field.null:
            line += ' "NULL"'
        lines.append(line)
    lines.append("    }")
    return lines


def _relations(model: type[models.Model]) -> list[str]:
    lines = []
    for field in model._meta.concrete_fields:
        if not field.is_relation:
            continue
        target = field.related_model.__name__
        parent = "|o" if field.null else "||"
        child = "o|" if field.one_to_one else "o{"
        lines.append(f'    {target} {parent}--{child} {model.__name__} : "{field.name}"')
    return lines


def render_erd() -> str:
    """The whole docs/erd.md text, deterministic for the same models."""
    diagram_models = sorted(
        (m for name in DIAGRAM_APPS for m in apps.get_app_config(name).get_models()), key=lambda m: m.__name__
    )
    relations = sorted(line for model in diagram_models for line in _relations(model))
    entities = [line for model in diagram_models for line in _entity(model)]
    body = ["```mermaid", "erDiagram", *relations, *entities, "```"]
    return HEADER + "\n" + "\n".join(body) + "\n"


class Command(BaseCommand):
    help = "Write docs/erd.md (a Mermaid ER diagram generated from the models)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--check", action="store_true", help="fail if docs/erd.md is stale instead of writing it")
        parser.add_argument("--stdout", action="store_true", help="print the diagram instead of writing it")

    def handle(self, *args: Any, check: bool = False, stdout: bool = False, **options: Any) -> None:
        text = render_erd()
        if stdout:
            self.stdout.write(text, ending="")
        elif check:
            if not ERD_PATH.exists() or ERD_PATH.read_text() != text:
                raise CommandError(f"{ERD_PATH} is stale: run `make erd` and commit it.")
            self.stdout.write(f"{ERD_PATH} is up to date.")
        else:
            ERD_PATH.parent.mkdir(parents=True, exist_ok=True)
            ERD_PATH.write_text(text)
            self.stdout.write(f"wrote {ERD_PATH}")
