"""GET /health, /health/live and /health/ready: is the hub up, can it answer, are its sources fresh."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from hub.api.deps import ConfigDep, SchedulerDep, StoreDep
from hub.catalog import SourceStatus, source_statuses
from hub.config import HubConfig
from hub.metrics import source_state
from hub.store import Store

router = APIRouter(tags=["operations"])

SourceState = Literal["ok", "late", "failing", "held", "never"]


class StoreHealth(BaseModel):
    """Where the store is, how many named graphs it holds, how often its server restarted."""

    path: str
    graphs: int | None = None
    restarts: int | None = None


class SourceHealth(BaseModel):
    """One source: `failing` (its last run failed), `late`, `held`, `ok`, or `never` run."""

    state: SourceState
    last_status: str | None = None
    last_run: str | None = None
    last_success: str | None = None
    message: str | None = None


class Health(BaseModel):
    """The body of /health: `degraded` if a source is failing or late, or the store is down."""

    status: Literal["ok", "degraded"]
    store: StoreHealth
    scheduler: Literal["running", "off"]
    sources: dict[str, SourceHealth] | None = None
    reason: str | None = None


class Probe(BaseModel):
    """The body of /health/live and /health/ready."""

    status: Literal["alive", "ready", "unavailable"]
    reason: str | None = None


def _scheduler_state(scheduler: object | None) -> Literal["running", "off"]:
    """`running` if a scheduler is attached and (when it says so) running."""
    if scheduler is None:
        return "off"
    return "running" if getattr(scheduler, "running", True) else "off"


def _ask(store: Store) -> None:
    """Ask the store a trivial question; raise if it does not answer `true`."""
    if not store.ask("ASK {}"):
        raise RuntimeError("`ASK {}` answered false")


def _probe(store: Store) -> int:
    """The number of named graphs, if the store answers."""
    _ask(store)
    return len(store.named_graphs())


def _store_health(store: Store, graphs: int | None = None) -> StoreHealth:
    server = getattr(store, "server", None)  # the child `oxigraph serve`, if the hub runs one
    restarts = getattr(server, "restarts", None)
    return StoreHealth(path=store.capabilities.describe, graphs=graphs, restarts=restarts)


def _sources(statuses: list[SourceStatus]) -> tuple[dict[str, SourceHealth], list[str]]:
    """Each source's health, and the reasons (if any) that make the hub degraded."""
    out: dict[str, SourceHealth] = {}
    problems: list[str] = []
    for row in statuses:
        state = source_state(row)
        out[row.id] = SourceHealth(
            state=state,
            last_status=row.last_status,
            last_run=row.last_run,
            last_success=row.last_good,
            message=row.last_message or None,
        )
        if state == "failing":
            problems.append(f"source `{row.id}` is failing (last run {row.last_status})")
        elif row.late:
            problems.append(f"source `{row.id}` is late (last success {row.last_good or 'never'})")
    return out, problems


def _check(store: Store, config: HubConfig) -> tuple[int, dict[str, SourceHealth], list[str]]:
    """Blocking: the store's graphs, then the sources' state (any failure there is a problem)."""
    graphs = _probe(store)
    try:
        sources, problems = _sources(source_statuses(store, config))
    except Exception as exc:  # the store answered ASK, but not this: degraded, not down
        return graphs, {}, [f"the sources' state cannot be read: {type(exc).__name__}: {exc}"]
    return graphs, sources, problems


@router.get(
    "/health",
    response_model=Health,
    response_model_exclude_none=True,
    responses={503: {"model": Health, "description": "The store cannot answer `ASK {}`."}},
)
async def health(
    store: StoreDep, config: ConfigDep, scheduler: SchedulerDep
) -> Health | JSONResponse:
    """`ok`, or `degraded` with the reasons (a source failing or late); 503 if the store
    cannot answer `ASK {}`."""
    state = _scheduler_state(scheduler)
    try:
        graphs, sources, problems = await run_in_threadpool(_check, store, config)
    except Exception as exc:  # any failure to answer means unhealthy; say why
        body = Health(
            status="degraded",
            store=_store_health(store),
            scheduler=state,
            reason=f"the store cannot answer `ASK {{}}`: {type(exc).__name__}: {exc}",
        )
        return JSONResponse(body.model_dump(exclude_none=True), status_code=503)
    return Health(
        status="degraded" if problems else "ok",
        store=_store_health(store, graphs),
        scheduler=state,
        sources=sources or None,
        reason="; ".join(problems) or None,
    )


@router.get("/health/live", response_model=Probe, response_model_exclude_none=True)
async def live() -> Probe:
    """200 while the process serves requests (it asks nothing of the store)."""
    return Probe(status="alive")


@router.get(
    "/health/ready",
    response_model=Probe,
    response_model_exclude_none=True,
    responses={503: {"model": Probe, "description": "The store cannot answer `ASK {}`."}},
)
async def ready(store: StoreDep) -> Probe | JSONResponse:
    """200 when the store answers `ASK {}`, 503 (with the reason) when it does not."""
    try:
        await run_in_threadpool(_ask, store)
    except Exception as exc:
        body = Probe(
            status="unavailable",
            reason=f"the store cannot answer `ASK {{}}`: {type(exc).__name__}: {exc}",
        )
        return JSONResponse(body.model_dump(exclude_none=True), status_code=503)
    return Probe(status="ready")
