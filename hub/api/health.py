"""GET /health: is the store answering, and is the scheduler on."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from hub.api.deps import SchedulerDep, StoreDep
from hub.store import Store

router = APIRouter(tags=["operations"])


class StoreHealth(BaseModel):
    """Where the store is and how many named graphs it holds."""

    path: str
    graphs: int | None = None


class Health(BaseModel):
    """The body of /health."""

    status: Literal["ok", "unavailable"]
    store: StoreHealth
    scheduler: Literal["running", "off"]
    reason: str | None = None


def _scheduler_state(scheduler: object | None) -> Literal["running", "off"]:
    """`running` if a scheduler is attached and (when it says so) running."""
    if scheduler is None:
        return "off"
    return "running" if getattr(scheduler, "running", True) else "off"


def _probe(store: Store) -> int:
    """Ask the store a trivial question; the number of named graphs if it answers."""
    if not store.ask("ASK {}"):
        raise RuntimeError("`ASK {}` answered false")
    return len(store.named_graphs())


@router.get(
    "/health",
    response_model=Health,
    response_model_exclude_none=True,
    responses={503: {"model": Health, "description": "The store cannot answer `ASK {}`."}},
)
async def health(store: StoreDep, scheduler: SchedulerDep) -> Health | JSONResponse:
    """`ok` if the store answers `ASK {}`; 503 with the reason if it does not."""
    state = _scheduler_state(scheduler)
    try:
        graphs = await run_in_threadpool(_probe, store)
    except Exception as exc:  # any failure to answer means unhealthy; say why
        body = Health(
            status="unavailable",
            store=StoreHealth(path=store.capabilities.describe),
            scheduler=state,
            reason=f"the store cannot answer `ASK {{}}`: {type(exc).__name__}: {exc}",
        )
        return JSONResponse(body.model_dump(exclude_none=True), status_code=503)
    return Health(
        status="ok",
        store=StoreHealth(path=store.capabilities.describe, graphs=graphs),
        scheduler=state,
    )
