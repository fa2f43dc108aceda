"""Shared route dependencies, read from `app.state` (set once by `create_app`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from hub.config import HubConfig
from hub.store import Store


def get_store(request: Request) -> Store:
    """The store the app serves."""
    return request.app.state.store


def get_config(request: Request) -> HubConfig:
    """The hub's configuration."""
    return request.app.state.config


def get_scheduler(request: Request) -> object | None:
    """The scheduler running harvests in this process, if any."""
    return request.app.state.scheduler


StoreDep = Annotated[Store, Depends(get_store)]
ConfigDep = Annotated[HubConfig, Depends(get_config)]
SchedulerDep = Annotated[object | None, Depends(get_scheduler)]
