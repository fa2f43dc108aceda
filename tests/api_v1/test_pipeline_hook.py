"""Publishing a source rebuilds its part of the read model (the pipeline's call to rebuild_source)."""

from __future__ import annotations

from hub.config import HubConfig
from hub.pipeline.programme import load_programme
from hub.pipeline.run import run_source
from hub.readmodel import ReadModel
from hub.store import open_store


def test_publishing_a_source_rebuilds_its_read_model(demo_config: HubConfig) -> None:
    store = open_store(demo_config.store_path)
    try:
        load_programme(store, demo_config)
        report = run_source(demo_config, store, "itinera-trails")
        assert report.status == "published"
        with ReadModel.for_config(demo_config).snapshot() as snap:
            assert snap.sources["itinera-trails"].run_id == report.run_id
            assert snap.sources["itinera-trails"].entities == 11
    finally:
        store.close()
