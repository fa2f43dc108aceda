"""/api/v1: the REST API for dashboards, served from the read model (hub.readmodel).

`router` holds every v1 route; `hub.api.app` includes it.
"""

from __future__ import annotations

from fastapi import APIRouter

from hub.api.v1 import (
    catalog,
    changes,
    entities,
    entity,
    jsonld,
    programme,
    review,
    stats,
    vocab,
)

PREFIX = "/api/v1"

router = APIRouter(prefix=PREFIX)
router.include_router(entities.router)
router.include_router(entity.router)
router.include_router(stats.router)
router.include_router(catalog.router)
router.include_router(vocab.router)
router.include_router(review.router)
router.include_router(changes.router)
router.include_router(programme.router)
router.include_router(jsonld.router)  # /context.jsonld

__all__ = ["PREFIX", "router"]
