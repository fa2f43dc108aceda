"""Load the programme (projects, groups, regions) and the vocabulary into the programme graph."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox

from hub.config import ONTOLOGY_DIR, HubConfig, project_ids
from hub.errors import ConfigError
from hub.iris import MH, RDF, SCHEMA, Iris
from hub.mapping.terms import nt_literal
from hub.store.oxigraph import OxigraphStore

PROGRAMME_FILES = ("hub.ttl", "themes.ttl", "programme.ttl")


def ontology_path(name: str) -> Path:
    """A file of the bundled ontology folder."""
    return ONTOLOGY_DIR / name


def programme_turtle(config: HubConfig) -> bytes:
    """The programme graph as N-Triples: vocabulary, themes, programme, extra projects."""
    iris = Iris(config.base_iri)
    out: list[bytes] = []
    for name in PROGRAMME_FILES:
        path = ontology_path(name)
        if not path.exists():
            raise ConfigError(f"ontology file {path} is missing; restore it from the repository")
        for triple in ox.parse(
            path=str(path), format=ox.RdfFormat.TURTLE, base_iri=iris.programme_base
        ):
            out.append(f"{triple} .\n".encode())
    for project_id, project in config.projects.items():
        iri = f"<{iris.project(project_id)}>"
        out.append(f"{iri} <{RDF}type> <{MH}Project> .\n".encode())
        out.append(f"{iri} <{SCHEMA}name> {nt_literal(project.name)} .\n".encode())
        out.append(f"{iri} <{SCHEMA}identifier> {nt_literal(project_id)} .\n".encode())
    return b"".join(out)


def load_programme(store: OxigraphStore, config: HubConfig) -> None:
    """Replace the programme graph with the bundled ontology and the config's projects."""
    iris = Iris(config.base_iri)
    store.replace_graph(iris.programme_graph, programme_turtle(config), ox.RdfFormat.N_TRIPLES)


def known_projects(store: OxigraphStore, config: HubConfig) -> set[str]:
    """Ids of the projects a source may belong to (programme graph plus config)."""
    return project_ids(store.select, config.base_iri) | set(config.projects)
