"""Enrol a class from a CSV file: `email,nickname[,role]`, one member a row.

Every row is judged first (`import_plan`), then carried out (`import_run`) in
one transaction, so a dry run reports exactly what the real run would do.
A row whose email belongs to an account is added only in an admin's import,
and only when its nickname is blank or matches that account's, so a typo in
an address can't enrol a stranger; an operator's import skips it (being in a
group puts a member under its allowance and models and shows their usage to
its operators, so joining is theirs to choose, with an invite link). New
accounts have no usable password: each gets a one-time link to
set one, shown to the operator and handed to a pluggable hook
(`HARUCHAT_IMPORT_WELCOME_HOOK`, a dotted path to a callable taking
`(user, link, group)`; `welcome_by_email` sends it through Django's email
backend). No mail goes out by default: there may be no mail server.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils.module_loading import import_string
from rest_framework import status

from accounts.models import User, normalize_email
from accounts.password_reset import welcome_link
from accounts.registration import registration_allows_email, registration_domains
from common.errors import ApiError
from groups.models import Group, Membership

logger = logging.getLogger(__name__)

MAX_BYTES = 1024 * 1024
MAX_ROWS = 5000
NICKNAME_MAX = User._meta.get_field("nickname").max_length
EMAIL_MAX = 254

CREATED, ADDED, SKIPPED = "created", "added", "skipped"
HAS_ACCOUNT = "already has an account: send them an invite link"
# Header names, English or Korean (a spreadsheet made in Korea may say 이메일), to the column they mean.
COLUMNS = {"email": "email", "이메일": "email", "nickname": "nickname", "닉네임": "nickname", "이름": "nickname"}
COLUMNS |= {"role": "role", "역할": "role"}
ROLES = {"member": Membership.Role.MEMBER, "멤버": Membership.Role.MEMBER, "operator": Membership.Role.OPERATOR}
ROLES |= {"운영자": Membership.Role.OPERATOR}


class CsvTooLarge(ApiError):
    default_detail = f"The CSV file is larger than {MAX_BYTES // 1024} KiB. Split it and import each part."
    default_code = "csv_too_large"


class CsvTooManyRows(ApiError):
    default_detail = f"The CSV file has more than {MAX_ROWS} rows. Split it and import each part."
    default_code = "csv_too_many_rows"


class CsvUnreadable(ApiError):
    default_code = "csv_unreadable"


class CsvNoEmailColumn(ApiError):
    default_detail = "The CSV file's first line must name its columns, with at least `email` (email,nickname,role)."
    default_code = "csv_no_email_column"


class ImportConflict(ApiError):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "Members or accounts changed while importing; nothing was imported. Run the import again."
    default_code = "import_conflict"


@dataclass
class ImportRow:
    line: int
    email: str
    nickname: str
    role: str
    action: str
    reason: str | None = None
    set_password_url: str | None = None
    user: User | None = None  # the account added (created: not yet saved)


def csv_text(raw: bytes | str) -> str:
    """The file as text: UTF-8 (a byte order mark is fine), else CP949, in which Excel on a Korean Windows
    saves CSV files; anything else is a 400 `csv_unreadable`."""
    if isinstance(raw, str):
        text = raw
    else:
        if len(raw) > MAX_BYTES:
            raise CsvTooLarge()
        for encoding in ("utf-8-sig", "cp949"):
            try:
                text = raw.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise CsvUnreadable("The CSV file is not text in UTF-8 (or CP949). Save it as “CSV UTF-8” and retry.")
    if len(text.encode()) > MAX_BYTES:
        raise CsvTooLarge()
    if "\x00" in text:
        raise CsvUnreadable("The file has NUL bytes: it is not a CSV text file.")
    return text.removeprefix("\ufeff")


def _records(text: str) -> list[tuple[int, dict[str, str]]]:
    """(line, {email, nickname, role}) for each non-blank row; the first line names the columns."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, [])
        columns = [COLUMNS.get(name.strip().lower()) for name in header]
        if "email" not in columns:
            raise CsvNoEmailColumn()
        records = []
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            if len(records) == MAX_ROWS:
                raise CsvTooManyRows()
            fields = {"email": "", "nickname": "", "role": ""}
            for column, cell in zip(columns, row, strict=False):
                if column is not None:
                    fields[column] = cell.strip()
            records.append((reader.line_num, fields))
    except csv.Error as exc:
        raise CsvUnreadable(f"The CSV file is malformed at line {reader.line_num}: {exc}.") from exc
    return records


def import_plan(*, group: Group, text: str, by_admin: bool) -> list[ImportRow]:
    """What importing `text` into the group would do, row by row, without writing anything."""
    records = _records(text)
    emails = {normalize_email(fields["email"]) for _, fields in records} - {None}
    accounts: dict[str, User] = {}
    for chunk in _chunks(sorted(emails), 500):  # SQLite takes a bounded number of parameters per query
        accounts |= {user.email: user for user in User.objects.filter(email__in=chunk)}
    in_group = set(group.memberships.values_list("user_id", flat=True))
    first_line: dict[str, int] = {}
    rows = []
    for line, fields in records:
        email = normalize_email(fields["email"]) or ""
        row = ImportRow(line, email, fields["nickname"], fields["role"].lower() or Membership.Role.MEMBER, SKIPPED)
        row.reason = _judge(row, fields, accounts, in_group, first_line, by_admin)
        rows.append(row)
    return rows


def _judge(
    row: ImportRow,
    fields: dict[str, str],
    accounts: dict[str, User],
    in_group: set[int],
    first_line: dict[str, int],
    by_admin: bool,
) -> str | None:
    """Set the row's action and return why (a skip's reason, or a note); the order of checks is the report's."""
    if not row.email:
        return "no email address"
    try:
        validate_email(row.email)
        if len(row.email) > EMAIL_MAX:
            raise DjangoValidationError("too long")
    except DjangoValidationError:
        return f"{_shown(fields['email'])} is not a valid email address"
    if row.email in first_line:
        return f"the same email is on line {first_line[row.email]}"
    first_line[row.email] = row.line  # seen, even if this row is skipped below
    role = ROLES.get(row.role)
    if role is None:
        return f"unknown role {_shown(fields['role'])} (member or operator)"
    row.role = role
    if role == Membership.Role.OPERATOR and not by_admin:
        return "only an admin may make operators"
    if len(row.nickname) > NICKNAME_MAX:
        return f"the nickname is longer than {NICKNAME_MAX} characters"
    account = accounts.get(row.email)
    if account is not None:
        if not by_admin:  # the same reason whatever the account's nickname or state: nothing more is told
            return "already in this group" if account.pk in in_group else HAS_ACCOUNT
        if row.nickname and row.nickname.casefold() != account.nickname.strip().casefold():
            return "this email belongs to another member (the nickname differs)"
        if not account.is_active:
            return "this account is deactivated"
        if account.pk in in_group:
            return "already in this group"
        row.action, row.user = ADDED, account
        row.nickname = account.nickname
        return None
    if not registration_allows_email(row.email):
        return f"new accounts are limited to addresses at {', '.join(registration_domains())}"
    note = None
    if not row.nickname:
        row.nickname = row.email.split("@")[0][:NICKNAME_MAX]
        note = "nickname taken from the address"
    row.action, row.user = CREATED, User(email=row.email, nickname=row.nickname)
    return note


def _shown(text: str, limit: int = 60) -> str:
    return repr(text if len(text) <= limit else f"{text[:limit]}...")


def _chunks(items: list[str], size: int) -> list[list[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def import_run(*, group: Group, text: str, by_admin: bool, web_app_url: str, dry_run: bool) -> list[ImportRow]:
    """Judge every row and, unless a dry run, carry them out in one transaction: create the new accounts
    (no usable password), enrol everyone, then give each new member their set-password link and, once
    committed, hand it to the welcome hook."""
    if dry_run:
        return import_plan(group=group, text=text, by_admin=by_admin)
    try:
        with transaction.atomic():
            rows = import_plan(group=group, text=text, by_admin=by_admin)
            new = [row.user for row in rows if row.action == CREATED]
            for user in new:
                user.set_unusable_password()
            User.objects.bulk_create(new)
            Membership.objects.bulk_create(
                Membership(group=group, user=row.user, role=row.role) for row in rows if row.action != SKIPPED
            )
    except IntegrityError as exc:  # an account or membership made meanwhile by someone else
        raise ImportConflict() from exc
    welcomes = []
    for row in rows:
        if row.action == CREATED:
            row.set_password_url = welcome_link(user=row.user, web_app_url=web_app_url)
            welcomes.append((row.user, row.set_password_url))
    transaction.on_commit(lambda: _welcome_all(welcomes, group))
    return rows


def import_report(rows: list[ImportRow], *, dry_run: bool) -> dict[str, Any]:
    """The operator's report: counts by action and every row."""
    counts = {action: sum(row.action == action for row in rows) for action in (CREATED, ADDED, SKIPPED)}
    shown = [{k: v for k, v in asdict(row).items() if k != "user"} for row in rows]
    return {"dry_run": dry_run, **counts, "rows": shown}


def welcome_hook() -> Callable[[User, str, Group], Any] | None:
    path = settings.HARUCHAT_IMPORT_WELCOME_HOOK
    return import_string(path) if path else None


def _welcome_all(welcomes: list[tuple[User, str]], group: Group) -> None:
    """Hand each new member's link to the hook; one that fails is logged, and the operator still has the link."""
    if not welcomes:
        return
    try:
        hook = welcome_hook()
    except ImportError:  # the system check groups.E001 says so at start
        logger.exception("HARUCHAT_IMPORT_WELCOME_HOOK cannot be imported; no welcome was sent")
        return
    for user, link in welcomes if hook else ():
        try:
            hook(user, link, group)
        except Exception:
            logger.exception("the import's welcome hook failed for member %s", user.pk)


def welcome_by_email(user: User, link: str, group: Group) -> None:
    """A welcome hook: mail the new member their link through Django's email backend (HARUCHAT_EMAIL_URL)."""
    days = max(settings.HARUCHAT_WELCOME_LINK_SECONDS // 86400, 1)
    send_mail(
        subject=f"Your haruchat account for {group.name} / {group.name} haruchat 계정",
        message=(
            f"An account on haruchat was made for you ({user.email}) in the group {group.name}.\n"
            f"Choose your password here within {days} day(s) (the link works once):\n\n{link}\n\n"
            f"haruchat에 {group.name} 그룹의 계정({user.email})이 만들어졌습니다.\n"
            f"{days}일 안에 아래 링크에서 비밀번호를 정하세요 (한 번만 쓸 수 있습니다):\n\n{link}\n"
        ),
        from_email=None,
        recipient_list=[user.email],
    )
