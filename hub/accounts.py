"""Who may do what: accounts with a role (admin, steward, viewer) and a hashed token.

Accounts come from two places, both holding only SHA-256 hashes of tokens:

- `[users.<name>]` tables in hub.toml (`role`, `sources`, `projects`, `token_sha256`);
- `<data>/users.json`, written by `hub user add` (which prints the token once).

`HUB_ADMIN_TOKEN` in the hub's environment is one more admin (named `admin-token`).

A steward may decide (approve, reject, roll back, harvest, check) for the sources listed
in the account's `sources`, the sources of its `projects`, and the sources whose
agreement names it in `stewards`. Admins may decide for every source; viewers for none.
Only those who may decide for a source see the raw record values in its run reports.

    >>> token, account = add_user(config, "anna", "steward", sources=["itinera-trails"])  # doctest: +SKIP
    >>> Accounts.load(config).authenticate(token).name  # doctest: +SKIP
    'anna'
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hub.config import HubConfig, SourceConfig
from hub.errors import ConfigError
from hub.layout import DataLayout

__all__ = ["ROLES", "Account", "Accounts", "add_user", "hash_token", "new_token", "remove_user"]

log = logging.getLogger(__name__)
ROLES = ("admin", "steward", "viewer")
ADMIN_TOKEN_ENV = "HUB_ADMIN_TOKEN"
MIN_TOKEN_LENGTH = 16
USER_NAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{0,62}$")


def new_token() -> str:
    """A fresh random token (256 bits), shown once to whoever creates the account."""
    return "mh_" + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """The SHA-256 of a token, hex: what is stored (tokens are random, so no slow hash is needed)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Account:
    """One account: who (name), what role, for which sources and projects."""

    name: str
    role: str
    sources: frozenset[str] = frozenset()
    projects: frozenset[str] = frozenset()
    token_sha256: str = field(default="", repr=False)
    origin: str = "config"  # "config", "users file" or "environment"

    def may_decide(self, source: SourceConfig) -> bool:
        """Whether this account may approve, reject, roll back, harvest or check `source`."""
        if self.role == "admin":
            return True
        if self.role != "steward":
            return False
        return (
            source.id in self.sources
            or source.project in self.projects
            or self.name in source.stewards
        )

    def decides_for(self, config: HubConfig) -> list[str]:
        """Ids of the configured sources this account may decide for."""
        return [s.id for s in config.sources.values() if self.may_decide(s)]

    def describe(self) -> dict[str, Any]:
        """The account without its token hash (for `hub user list` and the pages)."""
        return {
            "name": self.name,
            "role": self.role,
            "sources": sorted(self.sources),
            "projects": sorted(self.projects),
            "origin": self.origin,
        }


def _read_users_file(path: Path) -> dict[str, dict[str, Any]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except ValueError as exc:
        raise ConfigError(
            f"{path} is not valid JSON ({exc}); fix it or remove it and add the users again"
        ) from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a JSON object of accounts by name; fix or remove it")
    return data


def _account(name: str, entry: dict[str, Any], origin: str) -> Account:
    return Account(
        name=name,
        role=str(entry.get("role", "")),
        sources=frozenset(entry.get("sources", ())),
        projects=frozenset(entry.get("projects", ())),
        token_sha256=str(entry.get("token_sha256", "")),
        origin=origin,
    )


@dataclass
class Accounts:
    """Every account the hub knows; `authenticate` finds the one a token belongs to."""

    by_name: dict[str, Account]

    @classmethod
    def load(cls, config: HubConfig) -> Accounts:
        """Accounts of the config, of the users file, and the environment's admin token."""
        found: dict[str, Account] = {}
        for name, user in config.users.items():
            found[name] = _account(name, user.model_dump(), "config")
        path = DataLayout(config.data_path).users()
        for name, entry in _read_users_file(path).items():
            if name in found:
                raise ConfigError(
                    f"user `{name}` is both in {config.path or 'the config'} [users] and in "
                    f"{path}; remove one (`hub user remove {name}` removes the file's)"
                )
            found[name] = _account(name, entry, "users file")
        admin = os.environ.get(ADMIN_TOKEN_ENV, "")
        if admin and len(admin) < MIN_TOKEN_LENGTH:
            log.warning(
                "%s is shorter than %d characters: not accepted; set a longer one",
                ADMIN_TOKEN_ENV, MIN_TOKEN_LENGTH,
            )  # fmt: skip
        elif admin:
            found.setdefault(
                "admin-token", Account("admin-token", "admin", token_sha256=hash_token(admin),
                                       origin="environment")
            )  # fmt: skip
        return cls(found)

    def authenticate(self, token: str) -> Account | None:
        """The account whose token this is, or None."""
        if not token:
            return None
        digest = hash_token(token)
        for account in self.by_name.values():
            if account.token_sha256 and hmac.compare_digest(account.token_sha256, digest):
                return account
        return None

    def stewards_of(self, source: SourceConfig) -> list[str]:
        """Names of the stewards who may decide for `source` (admins not listed)."""
        named = {
            a.name for a in self.by_name.values() if a.role == "steward" and a.may_decide(source)
        }
        return sorted(named | set(source.stewards))


def check_new_user(
    config: HubConfig, name: str, role: str, sources: Iterable[str], projects: Iterable[str]
) -> None:
    """Refuse an account that could not work: bad name, role, unknown source or project."""
    if not USER_NAME.match(name):
        raise ConfigError(
            f"`{name}` is not a user name: lower-case letters, digits and . _ @ - (e.g. anna.rossi)"
        )
    if role not in ROLES:
        raise ConfigError(f"unknown role `{role}`; use one of {', '.join(ROLES)}")
    unknown = [s for s in sources if s not in config.sources]
    if unknown:
        raise ConfigError(
            f"unknown source(s) {', '.join(unknown)}; known: {', '.join(sorted(config.sources))}"
        )
    known_projects = config.known_projects()
    unknown = [p for p in projects if p not in known_projects]
    if unknown:
        raise ConfigError(
            f"unknown project(s) {', '.join(unknown)}; known: {', '.join(sorted(known_projects))}"
        )
    if role == "steward" and not list(sources) and not list(projects):
        raise ConfigError(
            "a steward looks after some sources: give --source SOURCE or --project PROJECT"
        )


def add_user(
    config: HubConfig,
    name: str,
    role: str,
    *,
    sources: Iterable[str] = (),
    projects: Iterable[str] = (),
) -> tuple[str, Account]:
    """Create an account in the users file; returns its new token (shown once) and the account.

    Adding a name that exists replaces its token (and role and scope): how a lost token is renewed.
    """
    sources, projects = sorted(set(sources)), sorted(set(projects))
    check_new_user(config, name, role, sources, projects)
    if name in config.users:
        raise ConfigError(
            f"user `{name}` is defined in {config.path or 'the config'} [users]; change it there"
        )
    path = DataLayout(config.data_path).users()
    users = _read_users_file(path)
    token = new_token()
    users[name] = {
        "role": role,
        "sources": sources,
        "projects": projects,
        "token_sha256": hash_token(token),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    _write_users_file(path, users)
    return token, _account(name, users[name], "users file")


def remove_user(config: HubConfig, name: str) -> None:
    """Remove an account from the users file (its token stops working at once)."""
    path = DataLayout(config.data_path).users()
    users = _read_users_file(path)
    if name not in users:
        where = " (it is in the config's [users]: remove it there)" if name in config.users else ""
        raise ConfigError(f"no user `{name}` in {path}{where}")
    del users[name]
    _write_users_file(path, users)


def _write_users_file(path: Path, users: dict[str, dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    # Only hashes are stored, but the file says who may decide: keep it private.
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        json.dump(users, out, indent=2, sort_keys=True)
        out.write("\n")
        out.flush()
        os.fsync(out.fileno())
    temporary.replace(path)
