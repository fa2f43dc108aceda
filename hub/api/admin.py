"""The admin API of a serving hub (bearer token required): harvest now, approve, reject, roll back.

The token is the environment variable `HUB_ADMIN_TOKEN`; without it the admin API is
off. A harvest runs in the background; a decision (approve, reject, rollback) runs
at once and answers with the run's outcome. Both take the lock scheduled runs take,
so only one write happens at a time. `hub approve` etc. call these while `hub serve`
owns the store.
"""

from __future__ import annotations

import hmac
import os
import threading
from typing import Annotated

from fastapi import APIRouter, Header
from fastapi.responses import JSONResponse

from hub.api.deps import ConfigDep, StoreDep
from hub.api.errors import ApiError
from hub.errors import ConfigError, HubError
from hub.running import TOKEN_ENV

router = APIRouter(prefix="/api/admin", tags=["admin"])
DECISIONS = ("approve", "reject", "rollback")


def _check_token(authorization: str | None) -> None:
    expected = os.environ.get(TOKEN_ENV, "")
    if not expected:
        raise ApiError(
            403, f"the admin API is off; set {TOKEN_ENV} in the hub's environment to enable it"
        )
    if len(expected) < 16:
        raise ApiError(
            403, f"{TOKEN_ENV} is too short to be safe (16 characters at least); refusing"
        )
    scheme, _, given = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.encode(), expected.encode()):
        raise ApiError(401, "send `Authorization: Bearer <token>` with the hub's admin token")


@router.post("/harvest/{source_id}", status_code=202)
def harvest_now(
    source_id: str,
    config: ConfigDep,
    store: StoreDep,
    authorization: Annotated[str | None, Header()] = None,
) -> JSONResponse:
    """Start a run of one source now (202); its outcome appears in /api/v1/runs and `hub sources`."""
    _check_token(authorization)
    try:
        config.source(source_id)
    except ConfigError as exc:
        raise ApiError(404, str(exc)) from None
    from hub.scheduler import run_locked

    threading.Thread(target=run_locked, args=(config, store, source_id), daemon=True).start()
    return JSONResponse({"source": source_id, "status": "started"}, status_code=202)


@router.post("/{action}/{source_id}")
def decide(
    action: str,
    source_id: str,
    config: ConfigDep,
    store: StoreDep,
    run: str | None = None,
    reason: str = "",
    actor: str = "",
    authorization: Annotated[str | None, Header()] = None,
) -> JSONResponse:
    """`approve` or `reject` a held run, or `rollback` to a kept version (`run`: which one).

    `reason` and `actor` (who asked, as the caller names them) go into the run's record;
    the actor is always marked as having come through the admin token.
    """
    _check_token(authorization)
    if action not in DECISIONS:
        raise ApiError(404, f"no admin action `{action}`; use one of {', '.join(DECISIONS)}")
    try:
        config.source(source_id)
    except ConfigError as exc:
        raise ApiError(404, str(exc)) from None
    from hub.pipeline.publish import Publisher
    from hub.scheduler import RUN_LOCK

    with RUN_LOCK:
        try:
            who = f"{actor[:100]} via the admin token" if actor else "the admin token"
            report = getattr(Publisher(config, store), action)(
                source_id, run, reason=reason[:500], actor=who
            )
        except HubError as exc:
            raise ApiError(409, str(exc)) from None
    return JSONResponse(
        {
            "source": source_id,
            "run": report.run_id,
            "status": report.status,
            "message": report.message,
            "summary": report.summary(),
        }
    )
