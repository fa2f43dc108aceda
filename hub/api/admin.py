"""POST /api/admin/harvest/{source}: run a source now, inside the serving process (token required).

The token is the environment variable `HUB_ADMIN_TOKEN`; without it the admin API is
off. The run happens in the background under the same lock as scheduled runs.
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
from hub.errors import ConfigError

router = APIRouter(prefix="/api/admin", tags=["admin"])
TOKEN_ENV = "HUB_ADMIN_TOKEN"


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
