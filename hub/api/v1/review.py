"""The review API: a source's runs and reports, and the stewards' decisions on them.

Reading is open (reports without record values); a steward of the source, or an admin,
sees the values and may decide. Every decision goes through the one publish path and is
recorded with who (the account) and why (the reason).
"""

from __future__ import annotations

import threading
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPBearer
from pydantic import BaseModel, Field

from hub.api.auth import actor_of, current_account, require_decider
from hub.api.errors import ApiError
from hub.api.v1 import common as doc
from hub.api.v1.deps import ConfigDep, StoreDep
from hub.api.v1.params import parse_int
from hub.config import SOURCE_ID
from hub.pipeline.provenance import RunReport
from hub.review import RUN_ID, ReviewError, check_run_id, decide, run_detail, source_runs

router = APIRouter(tags=["review"])
# Documents the bearer scheme in OpenAPI; `require_decider` does the checking (401/403).
BEARER = [Depends(HTTPBearer(auto_error=False, description="An account's token (`hub user add`)"))]
AUTH_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {
        "description": "The body is not a JSON object of the documented fields (or, to reject, has no reason)."
    },
    401: {"description": "No valid credentials: send `Authorization: Bearer <token>`."},
    403: {
        "description": "The account may not decide for this source (viewer, or another steward's)."
    },
    404: {"description": "No such source or run."},
    409: {"description": "Nothing to decide: no such held run, or no kept version to go back to."},
    413: {"description": "The body is larger than [serve] max_request_bytes."},
}


class Decision(BaseModel):
    """Why (and, for a rollback, to which version)."""

    reason: str = Field("", max_length=500, description="Why; required to reject.")
    to: str | None = Field(
        None,
        pattern=RUN_ID.pattern,
        description="Rollback only: the kept version (run id) to go back to.",
    )


class Rejection(BaseModel):
    """Why the run is rejected (required: it is what the source's people will read)."""

    reason: str = Field(min_length=1, max_length=500, pattern=r"\S", description="Why.")


SourceId = Annotated[str, Path(pattern=SOURCE_ID.pattern, description="A source id")]
RunId = Annotated[
    str, Path(pattern=RUN_ID.pattern, description="A run id, like 20261204T163700123456Z-ab12")
]
PAGING = {
    "parameters": [
        {
            "name": "page",
            "in": "query",
            "required": False,
            "schema": {"type": "integer", "minimum": 1, "maximum": 100_000, "default": 1},
        },
        {
            "name": "size",
            "in": "query",
            "required": False,
            "schema": {"type": "integer", "minimum": 1, "maximum": 200, "default": 20},
        },
    ]
}


def _outcome(report: RunReport) -> JSONResponse:
    return JSONResponse(
        {
            "source": report.source,
            "run": report.run_id,
            "status": report.status,
            "message": report.message,
            "actor": report.actor,
            "summary": report.summary(),
        }
    )


def _review(call: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return call(*args, **kwargs)
    except ReviewError as exc:
        raise ApiError(exc.status, str(exc)) from None


@router.get(
    "/sources/{source_id}/runs",
    summary="A source's runs, newest first: which wait for a decision, which is published, which are kept",
    responses={400: doc.ERRORS[400], 404: AUTH_ERRORS[404]},
    openapi_extra=PAGING,
)
def runs_of_source(
    source_id: SourceId, request: Request, config: ConfigDep, store: StoreDep
) -> JSONResponse:
    """Runs with `pending` (held), `published` and `kept` flags; `held` lists what waits."""
    size = parse_int(request.query_params, "size", 20, 1, 200)
    page = parse_int(request.query_params, "page", 1, 1, 100_000)
    body = _review(source_runs, store, config, source_id, size=size, offset=(page - 1) * size)
    return JSONResponse({**body, "page": page, "size": size}, headers={"Cache-Control": "no-store"})


@router.get(
    "/sources/{source_id}/runs/{run_id}",
    summary="One run's report: errors, gates, SHACL results by shape, change preview",
    responses={404: AUTH_ERRORS[404]},
)
def run_report(
    source_id: SourceId, run_id: RunId, request: Request, config: ConfigDep, store: StoreDep
) -> JSONResponse:
    """The report; record values only for the source's stewards and admins."""
    account = current_account(request)
    source = config.sources.get(source_id)
    with_values = account is not None and source is not None and account.may_decide(source)
    body = _review(run_detail, store, config, source_id, run_id, with_values=with_values)
    return JSONResponse(body, headers={"Cache-Control": "no-store", "Vary": "Authorization"})


@router.post(
    "/sources/{source_id}/runs/{run_id}/approve",
    dependencies=BEARER,
    summary="Publish a held run (steward of the source, or admin)",
    responses=AUTH_ERRORS,
)
def approve(
    source_id: SourceId,
    run_id: RunId,
    request: Request,
    config: ConfigDep,
    store: StoreDep,
    decision: Annotated[Decision | None, Body()] = None,
) -> JSONResponse:
    """Publishes the held run through the one publish path; answers with the outcome."""
    account = require_decider(request, config, source_id)
    reason = (decision or Decision()).reason
    report = _review(
        decide, config, store, "approve", source_id, run_id, reason=reason, actor=actor_of(account)
    )
    return _outcome(report)


@router.post(
    "/sources/{source_id}/runs/{run_id}/reject",
    dependencies=BEARER,
    summary="Discard a held run, saying why (steward of the source, or admin)",
    responses=AUTH_ERRORS,
)
def reject(
    source_id: SourceId,
    run_id: RunId,
    request: Request,
    config: ConfigDep,
    store: StoreDep,
    decision: Annotated[Rejection, Body()],
) -> JSONResponse:
    """What readers see does not change; the run is recorded as rejected, with the reason."""
    account = require_decider(request, config, source_id)
    reason = decision.reason
    report = _review(
        decide, config, store, "reject", source_id, run_id, reason=reason, actor=actor_of(account)
    )
    return _outcome(report)


@router.post(
    "/sources/{source_id}/rollback",
    dependencies=BEARER,
    summary="Publish again a kept version (default: the one before the published one)",
    responses=AUTH_ERRORS,
)
def rollback(
    source_id: SourceId,
    request: Request,
    config: ConfigDep,
    store: StoreDep,
    decision: Annotated[Decision | None, Body()] = None,
) -> JSONResponse:
    """`to`: the run id of a kept version (GET .../runs lists `kept_versions`)."""
    account = require_decider(request, config, source_id)
    decision = decision or Decision()
    target = decision.to or request.query_params.get("to")
    if target:
        _review(check_run_id, target)
    report = _review(
        decide, config, store, "rollback", source_id, target,
        reason=decision.reason, actor=actor_of(account),
    )  # fmt: skip
    return _outcome(report)


@router.post(
    "/sources/{source_id}/harvest",
    dependencies=BEARER,
    status_code=202,
    summary="Run a source now (steward of the source, or admin); its outcome appears in its runs",
    responses=AUTH_ERRORS,
)
def harvest(
    source_id: SourceId, request: Request, config: ConfigDep, store: StoreDep
) -> JSONResponse:
    """Starts the run in the background (202), under the lock scheduled runs take."""
    require_decider(request, config, source_id)
    from hub.scheduler import run_locked

    threading.Thread(target=run_locked, args=(config, store, source_id), daemon=True).start()
    return JSONResponse({"source": source_id, "status": "started"}, status_code=202)
