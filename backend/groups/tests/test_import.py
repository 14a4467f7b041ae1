"""Enrolling a class from CSV: row by row what is created, added or skipped and why; a dry run that is
exactly the real run without its writes; one transaction; set-password links that work; the welcome hook."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError

from accounts.models import User
from conftest import client_for, make_member
from groups import imports
from groups.models import Membership

# Every rule, one row each (line numbers count the header as 1).
CLASS_CSV = """email,nickname,role
new.one@school.example,New One,
NEW.TWO@school.example,,member
not-an-address,Broken,
new.one@school.example,New One again,
student-b@example.com,,
student-b@example.com,,
dal@example.com,Somebody Else,
dal2@example.com,dal2,
student@example.com,student,
teacher@school.example,Teacher,operator
outside@elsewhere.example,Outsider,
odd@school.example,Odd,captain
"""


def _import(client, group, body, *, dry_run: bool = False, **kwargs):
    url = f"/api/groups/{group.pk}/members/import" + ("?dry_run=true" if dry_run else "")
    if isinstance(body, str):
        return client.post(url, {"csv": body}, format="json", **kwargs)
    return client.post(url, body, **kwargs)


@pytest.fixture
def school(world, settings):
    settings.HARUCHAT_REGISTRATION_DOMAINS = ["school.example", "example.com"]
    make_member(email="dal@example.com", nickname="dal")
    make_member(email="dal2@example.com", nickname="Dal2")
    return world


def _without_urls(report: dict) -> dict:
    return {**report, "rows": [{**row, "set_password_url": None} for row in report["rows"]]}


def _everything() -> tuple:
    return (
        sorted(User.objects.values_list("email", "nickname", "password")),
        sorted(Membership.objects.values_list("group_id", "user_id", "role")),
    )


def test_each_row_is_created_added_or_skipped_with_its_reason(school):
    report = _import(client_for(school.admin), school.class_a, CLASS_CSV).json()
    rows = {row["line"]: row for row in report["rows"]}
    assert {line: (row["action"], row["reason"]) for line, row in rows.items()} == {
        2: ("created", None),
        3: ("created", "nickname taken from the address"),
        4: ("skipped", "'not-an-address' is not a valid email address"),
        5: ("skipped", "the same email is on line 2"),
        6: ("added", None),  # an existing account, nickname left blank
        7: ("skipped", "the same email is on line 6"),
        8: ("skipped", "this email belongs to another member (the nickname differs)"),
        9: ("added", None),  # the same nickname, whatever its case
        10: ("skipped", "already in this group"),
        11: ("created", None),  # an admin may make operators
        12: ("skipped", "new accounts are limited to addresses at school.example, example.com"),
        13: ("skipped", "unknown role 'captain' (member or operator)"),
    }
    assert (report["dry_run"], report["created"], report["added"], report["skipped"]) == (False, 3, 2, 7)
    assert (rows[3]["email"], rows[3]["nickname"]) == ("new.two@school.example", "new.two")
    assert rows[6]["nickname"] == "student-b"  # the account's own
    assert [line for line, row in rows.items() if row["set_password_url"]] == [2, 3, 11]
    in_class = dict(Membership.objects.filter(group=school.class_a).values_list("user__email", "role"))
    assert in_class == {
        "op-a@example.com": "operator",
        "student@example.com": "member",
        "new.one@school.example": "member",
        "new.two@school.example": "member",
        "student-b@example.com": "member",
        "dal2@example.com": "member",
        "teacher@school.example": "operator",
    }
    new = User.objects.get(email="new.one@school.example")
    assert new.nickname == "New One" and not new.has_usable_password()


def test_an_operators_import_creates_new_accounts_but_never_enrols_an_existing_one(school):
    """Only an admin puts an existing account in a group; an operator's import skips it, with the same reason
    whatever its nickname, and the person can join with an invite link of their own choosing."""
    dal2 = User.objects.get(email="dal2@example.com")
    dal2.is_active = False
    dal2.save()
    before = set(Membership.objects.exclude(group=school.class_a).values_list("group_id", "user_id"))
    for dry_run in (True, False):
        report = _import(client_for(school.operator_a), school.class_a, CLASS_CSV, dry_run=dry_run).json()
        rows = {row["line"]: (row["action"], row["reason"]) for row in report["rows"]}
        assert rows == {
            2: ("created", None),
            3: ("created", "nickname taken from the address"),
            4: ("skipped", "'not-an-address' is not a valid email address"),
            5: ("skipped", "the same email is on line 2"),
            6: ("skipped", imports.HAS_ACCOUNT),  # another group's member
            7: ("skipped", "the same email is on line 6"),
            8: ("skipped", imports.HAS_ACCOUNT),  # a differing nickname tells nothing more
            9: ("skipped", imports.HAS_ACCOUNT),  # nor a deactivated account
            10: ("skipped", "already in this group"),
            11: ("skipped", "only an admin may make operators"),
            12: ("skipped", "new accounts are limited to addresses at school.example, example.com"),
            13: ("skipped", "unknown role 'captain' (member or operator)"),
        }
        assert imports.HAS_ACCOUNT == "already has an account: send them an invite link"
        assert (report["dry_run"], report["created"], report["added"], report["skipped"]) == (dry_run, 2, 0, 10)
    in_class = set(Membership.objects.filter(group=school.class_a).values_list("user__email", flat=True))
    assert in_class == {
        "op-a@example.com",
        "student@example.com",
        "new.one@school.example",
        "new.two@school.example",
    }
    assert set(Membership.objects.exclude(group=school.class_a).values_list("group_id", "user_id")) == before


def test_a_dry_run_writes_nothing_and_reports_exactly_what_the_real_run_does(school):
    admin = client_for(school.admin)
    before = _everything()
    dry = _import(admin, school.class_a, CLASS_CSV, dry_run=True)
    assert dry.status_code == 200, dry.content
    assert _everything() == before
    assert all(row["set_password_url"] is None for row in dry.json()["rows"])
    real = _import(admin, school.class_a, CLASS_CSV).json()
    assert _without_urls(real) == {**dry.json(), "dry_run": False}
    assert real["created"] == 3  # an admin may make the teacher an operator
    assert Membership.objects.get(user__email="teacher@school.example").role == "operator"


def test_the_link_sets_the_new_members_password_once(school, anon):
    report = _import(client_for(school.operator_a), school.class_a, "email,nickname\nkim@school.example,Kim\n").json()
    link = report["rows"][0]["set_password_url"]
    assert link.startswith("http://testserver/#/reset/")
    token = link.split("#/reset/")[1]
    body = {"token": token, "password": "a brand new pass phrase"}
    assert anon.post("/api/auth/password-reset/confirm", body, format="json").status_code == 204
    assert anon.post("/api/auth/password-reset/confirm", body, format="json").status_code == 400  # once
    login = {"email": "kim@school.example", "password": "a brand new pass phrase"}
    assert anon.post("/api/auth/login", login, format="json").status_code == 200


def test_the_link_outlives_a_reset_links_hour_but_not_its_own_lifetime(school, anon, settings):
    report = _import(client_for(school.operator_a), school.class_a, "email,nickname\nlee@school.example,Lee\n").json()
    body = {"token": report["rows"][0]["set_password_url"].split("#/reset/")[1], "password": "a long pass phrase"}
    settings.HARUCHAT_WELCOME_LINK_SECONDS = -1  # as though its week were over
    assert anon.post("/api/auth/password-reset/confirm", body, format="json").status_code == 400
    settings.HARUCHAT_WELCOME_LINK_SECONDS, settings.PASSWORD_RESET_TIMEOUT = 3600, -1  # a reset link's hour over
    assert anon.post("/api/auth/password-reset/confirm", body, format="json").status_code == 204
    forged = {**body, "token": body["token"][:-2] + ("AA" if not body["token"].endswith("AA") else "BB")}
    assert anon.post("/api/auth/password-reset/confirm", forged, format="json").status_code == 400


def test_the_file_comes_as_text_csv_as_a_form_upload_or_in_json(world):
    operator, group = client_for(world.operator_a), world.class_a
    url = f"/api/groups/{group.pk}/members/import?dry_run=true"
    as_text = operator.post(url, b"email,nickname\na@example.com,A\n", content_type="text/csv")
    upload = SimpleUploadedFile("class.csv", "\ufeffemail,nickname\nb@example.com,B\n".encode(), "text/csv")
    as_form = operator.post(url, {"file": upload}, format="multipart")
    as_json = operator.post(url, {"csv": "email\nc@example.com\n"}, format="json")
    assert [r.json()["rows"][0]["email"] for r in (as_text, as_form, as_json)] == [
        "a@example.com",
        "b@example.com",
        "c@example.com",
    ]
    missing = operator.post(url, {"other": SimpleUploadedFile("x.csv", b"email\n")}, format="multipart")
    assert missing.status_code == 400 and "file" in missing.json()["errors"]


def test_a_file_saved_by_korean_excel_and_korean_headers_are_read(world):
    text = "이메일,닉네임,역할\nhan@example.com,한결,멤버\n"
    answer = client_for(world.operator_a).post(
        f"/api/groups/{world.class_a.pk}/members/import?dry_run=true",
        text.encode("cp949"),
        content_type="text/csv",
    )
    row = answer.json()["rows"][0]
    assert (row["email"], row["nickname"], row["role"], row["action"]) == (
        "han@example.com",
        "한결",
        "member",
        "created",
    )


@pytest.mark.parametrize(
    ("body", "content_type", "code"),
    [
        (b"name,nickname\nx@example.com,x\n", "text/csv", "csv_no_email_column"),
        (b"", "text/csv", "required"),  # an empty body has no file in it
        (b"email\n\xff\xfe\xfd@example.com\n", "text/csv", "csv_unreadable"),
        (b"email\nx@example.com\x00\n", "text/csv", "csv_unreadable"),
        (b"email\n" + b"x" * imports.MAX_BYTES, "text/csv", "csv_too_large"),
        (("email\n" + "".join(f"m{n}@example.com\n" for n in range(5001))).encode(), "text/csv", "csv_too_many_rows"),
    ],
)
def test_a_file_that_cannot_be_imported_is_a_400_that_says_why(world, body, content_type, code):
    answer = client_for(world.operator_a).post(
        f"/api/groups/{world.class_a.pk}/members/import", body, content_type=content_type
    )
    assert (answer.status_code, answer.json()["code"]) == (400, code), answer.content
    assert answer.json()["detail"]
    assert User.objects.count() == 5  # the world's, no more


def test_an_upload_too_large_is_refused_before_it_is_read(world):
    upload = SimpleUploadedFile("big.csv", b"email\n" + b"x" * (imports.MAX_BYTES + 64 * 1024), "text/csv")
    answer = client_for(world.operator_a).post(
        f"/api/groups/{world.class_a.pk}/members/import", {"file": upload}, format="multipart"
    )
    assert (answer.status_code, answer.json()["code"]) == (400, "csv_too_large")


def test_five_thousand_rows_import_in_one_go(world):
    text = "email,nickname\n" + "".join(f"s{n}@example.com,s{n}\n" for n in range(imports.MAX_ROWS))
    report = _import(client_for(world.operator_a), world.class_a, text.encode(), content_type="text/csv")
    assert report.status_code == 200 and report.json()["created"] == imports.MAX_ROWS
    assert Membership.objects.filter(group=world.class_a).count() == imports.MAX_ROWS + 2


def test_the_real_run_is_all_or_nothing(world, monkeypatch):
    def collide(*args, **kwargs):
        raise IntegrityError("someone enrolled them meanwhile")

    monkeypatch.setattr(Membership.objects, "bulk_create", collide)
    answer = _import(client_for(world.operator_a), world.class_a, "email,nickname\nkim@example.com,Kim\n")
    assert (answer.status_code, answer.json()["code"]) == (409, "import_conflict")
    assert not User.objects.filter(email="kim@example.com").exists()


def test_the_welcome_hook_mails_each_new_member_their_link_once_committed(
    world, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.HARUCHAT_IMPORT_WELCOME_HOOK = "groups.imports.welcome_by_email"
    text = "email,nickname\nkim@example.com,Kim\nstudent@example.com,\nlee@example.com,Lee\n"
    with django_capture_on_commit_callbacks(execute=True):
        report = _import(client_for(world.operator_a), world.class_a, text).json()
    links = {row["email"]: row["set_password_url"] for row in report["rows"] if row["action"] == "created"}
    assert sorted((m.to[0], links[m.to[0]] in m.body, "Class A" in m.subject) for m in mail.outbox) == [
        ("kim@example.com", True, True),
        ("lee@example.com", True, True),
    ]


def test_no_mail_is_sent_without_a_hook_nor_on_a_dry_run(world, settings, django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with django_capture_on_commit_callbacks(execute=True):
        _import(client_for(world.operator_a), world.class_a, "email,nickname\nkim@example.com,Kim\n")
    settings.HARUCHAT_IMPORT_WELCOME_HOOK = "groups.imports.welcome_by_email"
    with django_capture_on_commit_callbacks(execute=True):
        _import(client_for(world.operator_a), world.class_a, "email\npark@example.com\n", dry_run=True)
    assert mail.outbox == []


def test_a_failing_hook_leaves_the_import_done(world, settings, django_capture_on_commit_callbacks):
    settings.HARUCHAT_IMPORT_WELCOME_HOOK = "groups.tests.test_import.broken_hook"
    with django_capture_on_commit_callbacks(execute=True):
        answer = _import(client_for(world.operator_a), world.class_a, "email,nickname\nkim@example.com,Kim\n")
    assert answer.status_code == 200 and User.objects.filter(email="kim@example.com").exists()


def broken_hook(user, link, group):
    raise RuntimeError("the mail server is down")


def test_a_welcome_hook_that_cannot_be_imported_fails_the_system_check(settings):
    from django.core.checks import run_checks

    settings.HARUCHAT_IMPORT_WELCOME_HOOK = "groups.imports.no_such_hook"
    assert [e.id for e in run_checks() if e.id.startswith("groups.")] == ["groups.E001"]
    settings.HARUCHAT_IMPORT_WELCOME_HOOK = "groups.imports.welcome_by_email"
    assert [e.id for e in run_checks() if e.id.startswith("groups.")] == []
