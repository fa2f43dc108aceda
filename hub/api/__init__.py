"""The hub's HTTP API: `create_app` builds the FastAPI app (/sparql, /health, /)."""

from __future__ import annotations

from hub.api.app import create_app

__all__ = ["create_app"]
