"""Who is calling: the account of a bearer token (API) or of the session cookie (steward pages).

Mutations refuse with 401 when no valid credentials come, 403 when the account's role or
scope does not allow it (`hub.accounts`). Accounts are re-read when the users file changes,
so `hub user add` works while `hub serve` runs.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Annotated

from fastapi import Depends, Request

from hub.accounts import Account, Accounts
from hub.api.errors import ApiError
from hub.config import HubConfig
from hub.errors import ConfigError
from hub.layout import DataLayout

SESSION_COOKIE = "hub_session"
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="marittimo-hub"'}


def accounts(request: Request) -> Accounts:
    """The hub's accounts, reloaded when the users file changes."""
    config: HubConfig = request.app.state.config
    path = DataLayout(config.data_path).users()
    try:
        stamp = path.stat().st_mtime_ns
    except FileNotFoundError:
        stamp = 0
    cached = getattr(request.app.state, "accounts", None)
    if cached is None or cached[0] != stamp:
        try:
            loaded = Accounts.load(config)
        except ConfigError as exc:
            raise ApiError(500, f"the hub's accounts cannot be read: {exc}") from None
        request.app.state.accounts = cached = (stamp, loaded)
    return cached[1]


def presented_token(request: Request) -> str:
    """The token the caller sent: `Authorization: Bearer ...`, else the session cookie."""
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and given.strip():
        return given.strip()
    return request.cookies.get(SESSION_COOKIE, "")


def current_account(request: Request) -> Account | None:
    """The caller's account, or None (anonymous, or a token no account has)."""
    return accounts(request).authenticate(presented_token(request))


def require_account(request: Request) -> Account:
    """The caller's account; 401 without valid credentials."""
    account = current_account(request)
    if account is None:
        given = "the token sent is not valid" if presented_token(request) else "no credentials"
        raise ApiError(
            401,
            f"{given}: send `Authorization: Bearer <token>` (an account's token; "
            "`hub user add` creates one)",
            headers=CHALLENGE,
        )
    return account


def require_decider(request: Request, config: HubConfig, source_id: str) -> Account:
    """An account that may decide for `source_id` (admin, or one of its stewards); 401/403."""
    account = require_account(request)
    source = config.sources.get(source_id)
    if source is None:
        raise ApiError(404, f"no source `{source_id}`; GET /api/v1/sources lists them")
    if not account.may_decide(source):
        raise ApiError(
            403,
            f"account `{account.name}` ({account.role}) may not decide for source `{source_id}`: "
            "it needs an admin, or a steward of the source or of its project",
        )
    return account


def actor_of(account: Account) -> str:
    """How an account is named in the audit trail."""
    return f"{account.name} ({account.role})"


def csrf_token(request: Request) -> str:
    """A value forms of the steward pages carry, tied to the session (refused if it differs)."""
    session = request.cookies.get(SESSION_COOKIE, "")
    return hmac.new(session.encode(), b"marittimo-hub csrf", hashlib.sha256).hexdigest()[:32]


OptionalAccount = Annotated[Account | None, Depends(current_account)]
