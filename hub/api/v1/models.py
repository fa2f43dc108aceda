"""Shapes of /api/v1 answers, for the OpenAPI description (/docs); routes write JSON directly."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ErrorDetail(BaseModel):
    """The status again, and a message that names the parameter and the fix."""

    status: int = Field(examples=[400])
    message: str = Field(
        examples=[
            "bbox='8,43' has 2 value(s), not 4; expected bbox=minlon,minlat,maxlon,maxlat ..."
        ]
    )


class ErrorBody(BaseModel):
    """Every error: `{"error": {"status", "message"}}` (text/plain if JSON is not accepted)."""

    error: ErrorDetail


class Entity(BaseModel):
    """One entity; which keys appear depends on `fields=`."""

    id: str = Field(examples=["smartdest-offer/cor-0001"], description="`{source}/{key}`")
    iri: str | None = Field(None, examples=["https://hub.example.org/id/smartdest-offer/cor-0001"])
    source: str | None = Field(None, examples=["smartdest-offer"])
    project: str | None = Field(None, examples=["smart-destination"])
    licence: str | None = Field(None, examples=["https://creativecommons.org/licenses/by/4.0/"])
    types: list[str] | None = Field(None, examples=[["TouristAttraction"]])
    name: str | None = Field(
        None, examples=["Bonaparte House"], description="In `lang`, with fallback"
    )
    description: str | None = None
    names: dict[str, str] | None = Field(
        None, examples=[{"it": "Casa Bonaparte", "fr": "Maison Bonaparte"}]
    )
    descriptions: dict[str, str] | None = None
    municipalities: list[str] | None = Field(None, examples=[["Ajaccio"]])
    regions: list[str] | None = Field(None, examples=[["corse"]])
    themes: list[str] | None = None
    categories: list[str] | None = Field(None, examples=[["museums"]])
    lat: float | None = Field(None, examples=[41.9178])
    lon: float | None = Field(None, examples=[8.7378])
    updated: str | None = Field(None, examples=["2024-01-25T10:10:00Z"])
    url: str | None = None
    start_date: str | None = None
    end_date: str | None = None
    geometry: dict[str, Any] | None = None
    distance_km: float | None = Field(None, description="Only with `near`")


class Links(BaseModel):
    """URLs of this page and its neighbours."""

    self: str
    next: str | None = None
    prev: str | None = None


class EntityPage(BaseModel):
    """A page of entities (JSON). GeoJSON, CSV and JSON-LD carry the same rows."""

    total: int = Field(examples=[16])
    page: int | None = Field(examples=[1], description="null when paging by cursor")
    size: int = Field(examples=[20])
    sort: str = Field(examples=["name"])
    lang: str = Field(examples=["en"])
    next_cursor: str | None = Field(
        description="Pass as `cursor=` for the next page; null on the last"
    )
    links: Links
    items: list[Entity]


class Statement(BaseModel):
    """One triple about the entity, with the source that states it and its licence."""

    subject: str
    predicate: str
    object: dict[str, Any] = Field(examples=[{"value": "Casa Bonaparte", "lang": "it"}])
    source: str = Field(examples=["smartdest-offer"])
    licence: str | None = None


class EntityDetail(BaseModel):
    """One entity, merged from every source that says something about it or its owl:sameAs peers."""

    id: str
    iri: str
    entity: Entity
    same_as: list[str]
    sources: list[dict[str, Any]]
    properties: dict[str, list[dict[str, Any]]]
    statements: list[Statement]


class Count(BaseModel):
    """How many matching entities have one value of a facet."""

    value: str = Field(examples=["toscana"])
    label: str | None = Field(None, examples=["Tuscany"])
    count: int = Field(examples=[16])


class Stats(BaseModel):
    """Entities matching the filters, and how many per value of each facet."""

    total: int
    by: dict[str, list[Count]]


class Project(BaseModel):
    """A project of the programme and what the hub holds of it."""

    id: str = Field(examples=["itinera"])
    iri: str
    name: str | None
    names: dict[str, str]
    description: str | None
    homepage: str | None
    working_groups: list[dict[str, Any]]
    sources: list[dict[str, Any]]
    entities: int
    freshness: str | None = Field(description="Last publish time of any of its sources")


class Projects(BaseModel):
    """Every project, and the working groups."""

    items: list[Project]
    working_groups: list[dict[str, Any]]


class Source(BaseModel):
    """A configured source, its catalogue facts and its last run."""

    id: str
    title: str
    project: str
    kind: str
    licence: str
    steward: str
    owner: str = Field("", description="The organisation that provides the data (agreement)")
    contact: str = Field("", description="Whom to ask about the agreement")
    update_every: str | None = Field(None, description="Expected update frequency, e.g. '7d'")
    stewards: list[str] = Field(default_factory=list, description="Accounts that review its runs")
    schedule: str
    last_good: str | None = Field(None, description="Start of the last published or unchanged run")
    late: bool = Field(False, description="Past its expected update (agreement or schedule)")
    held: int = Field(0, description="Runs held for a steward's decision")
    last_run: str | None
    last_status: str | None
    last_message: str | None
    published: str | None
    entities: int
    published_triples: int


class Sources(BaseModel):
    """Every configured source."""

    items: list[Source]


class Run(BaseModel):
    """One run of one source, as the metadata graph records it."""

    id: str
    iri: str
    source: str
    status: str
    started: str
    ended: str | None = None
    records: int | None = None
    record_errors: int | None = None
    triples: int | None = None
    violations: int | None = None
    message: str | None = None


class Runs(BaseModel):
    """A page of runs, newest first."""

    total: int
    page: int
    size: int
    items: list[Run]


class TypeItem(BaseModel):
    """A class entities have."""

    id: str = Field(examples=["TouristAttraction"])
    iri: str
    label: str
    labels: dict[str, str]
    count: int


class Types(BaseModel):
    """The classes entities have, most used first."""

    items: list[TypeItem]


class Concept(BaseModel):
    """A SKOS concept: a theme or an offer category."""

    id: str
    iri: str
    label: str | None
    labels: dict[str, str]
    definition: str | None
    broader: list[str]
    top: bool
    count: int


class Scheme(BaseModel):
    """A SKOS concept scheme and its concepts."""

    id: str = Field(examples=["theme"])
    iri: str
    label: str | None
    labels: dict[str, str]
    description: str | None
    concepts: list[Concept]


class Themes(BaseModel):
    """The programme themes and the offer categories."""

    schemes: list[Scheme]
