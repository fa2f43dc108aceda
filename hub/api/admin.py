"""The admin API of a serving hub: harvest now, approve, reject, roll back (admins only).

Any admin account's token works (`hub user add NAME --role admin`, or `HUB_ADMIN_TOKEN` in the
hub's environment). The stewards' own routes are /api/v1/sources/{id}/...; these stay for
scripts written against them. A harvest runs in the background; a decision runs at once,
through `hub.review.decide` (the lock scheduled runs take, the one publish path).
"""

from __future__ import annotations

import threading
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPBearer

from hub.api.auth import actor_of, require_account
from hub.api.deps import ConfigDep, StoreDep
from hub.api.errors import ApiError
from hub.config import SOURCE_ID
from hub.review import RUN_ID, ReviewError, decide

router = APIRouter(
    prefix="/api/admin",
    tags=["admin"],
    dependencies=[Depends(HTTPBearer(auto_error=False, description="An admin account's token"))],
    responses={
        401: {"description": "No valid credentials: send `Authorization: Bearer <token>`."},
        403: {"description": "The account is not an admin."},
        404: {"description": "No such source, or no such action."},
        409: {"description": "Nothing to decide: no held run, or no kept version."},
    },
)


def _require_admin(request: Request) -> str:
    account = require_account(request)
    if account.role != "admin":
        raise ApiError(
            403,
            f"the admin API is for admins; account `{account.name}` is a {account.role} "
            "(stewards use /api/v1/sources/{id}/runs/{run}/approve and the like)",
        )
    return actor_of(account)


SourceId = Annotated[str, Path(pattern=SOURCE_ID.pattern, description="A source id")]


@router.post("/harvest/{source_id}", status_code=202)
def harvest_now(
    source_id: SourceId, request: Request, config: ConfigDep, store: StoreDep
) -> JSONResponse:
    """Start a run of one source now (202); its outcome appears in /api/v1/runs and `hub sources`."""
    _require_admin(request)
    if source_id not in config.sources:
        raise ApiError(404, f"no source `{source_id}`; GET /api/v1/sources lists them")
    from hub.scheduler import run_locked

    threading.Thread(target=run_locked, args=(config, store, source_id), daemon=True).start()
    return JSONResponse({"source": source_id, "status": "started"}, status_code=202)


@router.post("/{action}/{source_id}", responses={400: {"description": "A malformed parameter."}})
def decide_as_admin(
    action: Literal["approve", "reject", "rollback"],
    source_id: SourceId,
    request: Request,
    config: ConfigDep,
    store: StoreDep,
    run: Annotated[str | None, Query(pattern=RUN_ID.pattern)] = None,
    reason: Annotated[str, Query(max_length=500)] = "",
    actor: Annotated[str, Query(max_length=100)] = "",
) -> JSONResponse:
    """`approve` or `reject` a held run, or `rollback` to a kept version (`run`: which one).

    `actor` (who asked, as the caller names them) is recorded beside the admin account.
    """
    who = _require_admin(request)
    if actor:
        who = f"{actor[:100]} via {who}"
    try:
        report = decide(config, store, action, source_id, run, reason=reason, actor=who)
    except ReviewError as exc:
        raise ApiError(exc.status, str(exc)) from None
    return JSONResponse(
        {
            "source": source_id,
            "run": report.run_id,
            "status": report.status,
            "message": report.message,
            "summary": report.summary(),
        }
    )
