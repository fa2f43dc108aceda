"""A rebuild keeps each entity's own triples: its node, sub-resources and skolem nodes,
even when another entity's lines sort between them in the version file."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from hub.config import load_config
from hub.iris import Iris
from hub.readmodel import readmodel_path, rebuild_source
from hub.util.blobs import unpack

SOURCE = "smartic-operators"
PLACE = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <http://schema.org/Place> ."


def test_every_entity_gets_exactly_its_lines(demo_root: Path) -> None:
    config = load_config(demo_root / "hub.toml")
    prefix = Iris(config.base_iri).entity_prefix(SOURCE)
    genid = Iris(config.base_iri).base + ".well-known/genid/x1"
    a = [
        f'<{prefix}a/address> <http://schema.org/addressLocality> "Bastia" .',
        f"<{prefix}a> <http://schema.org/address> <{prefix}a/address> .",
        f'<{prefix}a> <http://schema.org/name> "A"@fr .',
        f"<{prefix}a> <http://schema.org/offers> <{genid}> .",
        f"<{prefix}a> {PLACE}",
        f'<{genid}> <http://schema.org/price> "5" .',
    ]
    a1 = [f'<{prefix}a1> <http://schema.org/name> "A1"@fr .', f"<{prefix}a1> {PLACE}"]
    version = demo_root / "version.nt"
    # sorted as versions are: <…/a1> lines fall between <…/a/address> and <…/a>
    version.write_bytes(b"".join(sorted(line.encode() + b"\n" for line in a + a1)))
    assert rebuild_source(config, SOURCE, version) == 2
    with sqlite3.connect(readmodel_path(config)) as conn:
        stored = {
            uid: unpack(nt).decode().splitlines()
            for uid, nt in conn.execute(
                "SELECT e.uid, t.nt FROM entities e JOIN triples t ON t.id = e.id"
            )
        }
    assert stored == {f"{SOURCE}/a": sorted(a), f"{SOURCE}/a1": sorted(a1)}
