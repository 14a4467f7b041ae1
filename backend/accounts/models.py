"""Members: email is the login, with a nickname and optional profile facts."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.utils import timezone

from common.db import release_connection


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields: Any) -> User:
        if not email:
            raise ValueError("A member needs an email address.")
        user = self.model(email=normalize_email(email), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields: Any) -> User:
        fields.setdefault("nickname", email.split("@")[0])
        return self.create_user(email, password, is_staff=True, is_superuser=True, **fields)

    def get_by_natural_key(self, username: str | None) -> User:
        email = normalize_email(username)
        if email is None:
            raise self.model.DoesNotExist("A member without an email can't log in with a password.")
        return self.get(email=email)


def normalize_email(email: str | None) -> str | None:
    """Emails compare case-insensitively: stored lower-cased and trimmed; none is NULL, not ""."""
    return (email or "").strip().lower() or None


class User(AbstractBaseUser, PermissionsMixin):
    # Empty only for a member who signed up with a provider that shared no
    # email (Kakao may not): they log in with that provider.
    email = models.EmailField(unique=True, null=True, blank=True)
    nickname = models.CharField(max_length=50)
    born_year = models.PositiveSmallIntegerField(null=True, blank=True)
    job = models.CharField(max_length=100, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["nickname"]

    class Meta:
        verbose_name = "member"
        verbose_name_plural = "members"

    def __str__(self) -> str:
        return f"{self.nickname} <{self.email or 'no email'}>"

    # Hashing a password is slow CPU work: the pooled connection goes back first, so a
    # burst of logins can't empty the pool (the next query takes one again).

    def check_password(self, raw_password: str) -> bool:
        release_connection()
        return super().check_password(raw_password)

    def set_password(self, raw_password: str | None) -> None:
        release_connection()  # also the hash Django's backend makes for an unknown email, for even timing
        super().set_password(raw_password)
