"""The ontology folder: vocabulary, concept schemes, programme data and shapes hold together.

Also checks that the demo data and mappings use only what the ontology defines.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import sqlite3
from pathlib import Path

import pyshacl
import pytest
from rdflib import OWL, RDF, RDFS, SKOS, Graph, Literal, Namespace, URIRef
from rdflib.collection import Collection

from hub.config import load_config
from hub.demo import DATA_DIR, build_demo_databases

ROOT = Path(__file__).resolve().parent.parent
ONTOLOGY = ROOT / "ontology"
DEMO = ROOT / DATA_DIR
BASE = "https://hub.example.org/"
PROGRAMME_BASE = f"{BASE}id/programme/"

MH = Namespace("https://w3id.org/marittimo-hub/ns#")
SCHEMA = Namespace("http://schema.org/")
SH = Namespace("http://www.w3.org/ns/shacl#")
THEME = "https://w3id.org/marittimo-hub/theme/"
CATEGORY = "https://w3id.org/marittimo-hub/category/"
ACTION_STATUS = "https://w3id.org/marittimo-hub/action-status/"
SUPPORT_TYPE = "https://w3id.org/marittimo-hub/support-type/"
LANGS = {"en", "it", "fr"}

PROJECTS = {
    "smart-destination",
    "itinera",
    "cambusa",
    "ecostrim",
    "itaca",
    "mare-di-agrumi",
    "prometea",
    "sistina",
    "smartic",
    "stratus",
    "terragir3",
    "tesori-nascosti",
    "vivimed",
    "intense",
    "art-lab-net",
    "treno",
    "cievp",
}
REGIONS = {"toscana", "liguria", "sardegna", "corse", "paca"}

# The programme's working groups, copied by hand (not read from ontology/programme.ttl,
# which this checks): lead, members (lead included).
WORKING_GROUPS = {
    "digital-ecosystems": (
        "smart-destination",
        {
            "art-lab-net",
            "cambusa",
            "ecostrim",
            "itaca",
            "itinera",
            "mare-di-agrumi",
            "prometea",
            "sistina",
            "smartic",
            "smart-destination",
            "stratus",
            "terragir3",
            "tesori-nascosti",
            "vivimed",
            "intense",
        },
    ),
    "co-marketing": (
        "smartic",
        {
            "cambusa",
            "ecostrim",
            "itaca",
            "itinera",
            "mare-di-agrumi",
            "prometea",
            "sistina",
            "smartic",
            "stratus",
            "terragir3",
            "tesori-nascosti",
            "treno",
            "intense",
        },
    ),
    "destination-governance": (
        "intense",
        {
            "art-lab-net",
            "cambusa",
            "cievp",
            "itinera",
            "mare-di-agrumi",
            "sistina",
            "smartic",
            "smart-destination",
            "stratus",
            "terragir3",
            "tesori-nascosti",
            "intense",
        },
    ),
}

# Terms other parts of the hub write or read; renaming one breaks them.
REQUIRED_TERMS = {
    "QualityMark",
    "Certification",
    "OperatorNetwork",
    "Project",
    "WorkingGroup",
    "Region",
    "Programme",
    "awardedTo",
    "mark",
    "validFrom",
    "validUntil",
    "holdsCertification",
    "leadProject",
    "memberProject",
    "thematicDomain",
    "project",
    "theme",
    "category",
    "region",
    "municipality",
    "namedGraph",
    "mappingFile",
    "mappingHash",
    "status",
    "recordCount",
    "recordErrorCount",
    "tripleCount",
    "violationCount",
    "errorMessage",
    "versionFile",
    "statusMessage",
    "harvesterKind",
    "schedule",
    "ActionPlan",
    "PlannedAction",
    "Indicator",
    "BusinessSupportNetwork",
    "SupportService",
    "actionStatus",
    "supportType",
    "serves",
}

# The SHACL the hub allows itself (see the header of shapes.ttl).
ALLOWED_SHACL = {
    "targetClass",
    "property",
    "path",
    "minCount",
    "maxCount",
    "datatype",
    "nodeKind",
    "class",
    "in",
    "pattern",
    "minLength",
    "maxLength",
    "minInclusive",
    "maxInclusive",
    "languageIn",
    "uniqueLang",
    "hasValue",
    "severity",
    "message",
}


def parse(name: str) -> Graph:
    graph = Graph()
    if name == "programme.ttl":
        return graph.parse(ONTOLOGY / name, format="turtle", publicID=PROGRAMME_BASE)
    return graph.parse(ONTOLOGY / name, format="turtle")


@pytest.fixture(scope="module")
def vocabulary() -> Graph:
    return parse("hub.ttl")


@pytest.fixture(scope="module")
def themes() -> Graph:
    return parse("themes.ttl")


@pytest.fixture(scope="module")
def programme() -> Graph:
    return parse("programme.ttl")


@pytest.fixture(scope="module")
def shapes() -> Graph:
    return parse("shapes.ttl")


def langs(graph: Graph, subject: URIRef, predicate: URIRef) -> set[str]:
    return {o.language for o in graph.objects(subject, predicate) if isinstance(o, Literal)}


def tail(iri: URIRef, prefix: str) -> str:
    assert str(iri).startswith(prefix), f"{iri} is not under {prefix}"
    return str(iri)[len(prefix) :]


# --- every file -------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(ONTOLOGY.glob("*.ttl")), ids=lambda p: p.name)
def test_turtle_parses(path: Path) -> None:
    assert len(parse(path.name)) > 0


def test_programme_has_no_base_of_its_own() -> None:
    # A @base line would override the configured BASE and mint the wrong IRIs.
    text = (ONTOLOGY / "programme.ttl").read_text(encoding="utf-8")
    assert not re.search(r"^\s*(@base|BASE)\b", text, re.MULTILINE | re.IGNORECASE)


# --- hub.ttl ----------------------------------------------------------------


def vocabulary_terms(graph: Graph) -> set[URIRef]:
    kinds = (
        OWL.Class,
        RDFS.Class,
        OWL.ObjectProperty,
        OWL.DatatypeProperty,
        RDF.Property,
        OWL.AnnotationProperty,
    )
    return {s for kind in kinds for s in graph.subjects(RDF.type, kind) if s.startswith(MH)}


def test_vocabulary_defines_the_terms_the_hub_uses(vocabulary: Graph) -> None:
    defined = {tail(term, str(MH)) for term in vocabulary_terms(vocabulary)}
    assert defined >= REQUIRED_TERMS, f"missing: {sorted(REQUIRED_TERMS - defined)}"


def test_every_vocabulary_term_is_labelled_and_explained(vocabulary: Graph) -> None:
    problems = []
    for term in sorted(vocabulary_terms(vocabulary)):
        if missing := LANGS - langs(vocabulary, term, RDFS.label):
            problems.append(f"{term}: rdfs:label missing in {sorted(missing)}")
        if missing := LANGS - langs(vocabulary, term, RDFS.comment):
            problems.append(f"{term}: rdfs:comment missing in {sorted(missing)}")
    assert not problems, "\n".join(problems)


def test_ontology_header(vocabulary: Graph) -> None:
    ontologies = list(vocabulary.subjects(RDF.type, OWL.Ontology))
    assert ontologies == [URIRef("https://w3id.org/marittimo-hub/ns")]
    assert langs(vocabulary, ontologies[0], RDFS.label) >= LANGS


def test_every_mh_term_in_use_is_defined(vocabulary: Graph) -> None:
    defined = {tail(term, str(MH)) for term in vocabulary_terms(vocabulary)}
    used: dict[str, set[str]] = {}
    files = [*ONTOLOGY.glob("*.ttl"), *(ROOT / "mappings").glob("*.yml")]
    for path in files:
        for name in re.findall(r"\bmh:([A-Za-z][A-Za-z0-9]*)", path.read_text(encoding="utf-8")):
            used.setdefault(name, set()).add(path.name)
    undefined = {name: sorted(where) for name, where in used.items() if name not in defined}
    assert not undefined, f"mh: terms used but not defined in hub.ttl: {undefined}"


# --- programme.ttl ----------------------------------------------------------


def identifiers(graph: Graph, cls: URIRef) -> dict[str, URIRef]:
    found = {}
    for subject in graph.subjects(RDF.type, cls):
        ids = [str(o) for o in graph.objects(subject, SCHEMA.identifier)]
        assert len(ids) == 1, f"{subject} needs exactly one schema:identifier"
        found[ids[0]] = subject
    return found


def test_projects(programme: Graph) -> None:
    projects = identifiers(programme, MH.Project)
    assert set(projects) == PROJECTS
    for project_id, iri in projects.items():
        assert iri == URIRef(f"{PROGRAMME_BASE}project/{project_id}")
        assert programme.value(iri, SCHEMA.name) is not None
        assert programme.value(iri, RDFS.label) is not None
        assert langs(programme, iri, SCHEMA.description) >= LANGS


def test_working_groups_match_the_programme_table(programme: Graph) -> None:
    groups = identifiers(programme, MH.WorkingGroup)
    assert set(groups) == set(WORKING_GROUPS)
    for group_id, (lead, members) in WORKING_GROUPS.items():
        iri = groups[group_id]
        project = f"{PROGRAMME_BASE}project/"
        leads = [tail(o, project) for o in programme.objects(iri, MH.leadProject)]
        assert leads == [lead], group_id
        actual = {tail(o, project) for o in programme.objects(iri, MH.memberProject)}
        assert actual == members, f"{group_id}: +{actual - members} -{members - actual}"
        assert langs(programme, iri, RDFS.label) >= LANGS


def test_regions(programme: Graph) -> None:
    regions = identifiers(programme, MH.Region)
    assert set(regions) == REGIONS
    for region_id, iri in regions.items():
        assert iri == URIRef(f"{PROGRAMME_BASE}region/{region_id}")
        assert langs(programme, iri, RDFS.label) >= LANGS
        assert langs(programme, iri, SCHEMA.name) >= LANGS
    programmes = list(programme.subjects(RDF.type, MH.Programme))
    assert len(programmes) == 1
    assert set(programme.objects(programmes[0], MH.region)) == set(regions.values())


def test_quality_mark_is_programme_data(programme: Graph) -> None:
    mark = URIRef(f"{PROGRAMME_BASE}mark/smartic-cultural-identity")
    assert (mark, RDF.type, MH.QualityMark) in programme
    assert programme.value(mark, MH.project) == URIRef(f"{PROGRAMME_BASE}project/smartic")


def test_programme_links_resolve(programme: Graph, themes: Graph) -> None:
    concepts = set(themes.subjects(RDF.type, SKOS.Concept))
    for predicate in (MH.thematicDomain, MH.theme):
        for concept in programme.objects(None, predicate):
            assert concept in concepts, f"{concept} is not a concept of themes.ttl"


# --- themes.ttl -------------------------------------------------------------


def test_concept_schemes(themes: Graph) -> None:
    schemes = set(themes.subjects(RDF.type, SKOS.ConceptScheme))
    assert schemes == {
        URIRef(THEME.rstrip("/")),
        URIRef(CATEGORY.rstrip("/")),
        URIRef(ACTION_STATUS.rstrip("/")),
        URIRef(SUPPORT_TYPE.rstrip("/")),
    }
    concepts = set(themes.subjects(RDF.type, SKOS.Concept))
    problems = []
    for concept in sorted(concepts):
        if missing := LANGS - langs(themes, concept, SKOS.prefLabel):
            problems.append(f"{concept}: skos:prefLabel missing in {sorted(missing)}")
        in_schemes = set(themes.objects(concept, SKOS.inScheme))
        if len(in_schemes) != 1 or not in_schemes <= schemes:
            problems.append(f"{concept}: must be skos:inScheme exactly one existing scheme")
            continue
        (scheme,) = in_schemes
        if not str(concept).startswith(f"{scheme}/"):
            problems.append(f"{concept}: IRI is not under its scheme {scheme}")
        if str(themes.value(concept, SKOS.notation)) != str(concept).rsplit("/", 1)[1]:
            problems.append(f"{concept}: skos:notation must be the slug")
        for predicate in (SKOS.broader, SKOS.narrower, SKOS.related):
            for other in themes.objects(concept, predicate):
                if other not in concepts:
                    problems.append(f"{concept}: {predicate} points to unknown {other}")
        labels = [o.language for o in themes.objects(concept, SKOS.prefLabel)]
        if len(labels) != len(set(labels)):
            problems.append(f"{concept}: more than one skos:prefLabel in a language")
    for scheme in schemes:
        for top in themes.objects(scheme, SKOS.hasTopConcept):
            if (top, SKOS.topConceptOf, scheme) not in themes:
                problems.append(f"{top}: listed as top concept of {scheme} but not topConceptOf it")
    assert not problems, "\n".join(problems)


def test_three_thematic_domains(themes: Graph) -> None:
    for slug in WORKING_GROUPS:
        assert (URIRef(THEME + slug), RDF.type, SKOS.Concept) in themes


# --- shapes.ttl -------------------------------------------------------------


def test_shapes_are_valid_shacl(shapes: Graph) -> None:
    # meta_shacl validates the shapes graph against SHACL-for-SHACL first.
    conforms, _, report = pyshacl.validate(Graph(), shacl_graph=shapes, meta_shacl=True)
    assert conforms, report


def test_shapes_use_only_the_allowed_shacl(shapes: Graph) -> None:
    used = {tail(p, str(SH)) for p in set(shapes.predicates()) if p.startswith(str(SH))}
    assert used <= ALLOWED_SHACL, f"not allowed: {sorted(used - ALLOWED_SHACL)}"
    paths = list(shapes.objects(None, SH.path))
    assert paths and all(isinstance(p, URIRef) for p in paths), "every sh:path must be an IRI"


def test_every_shape_speaks_italian_french_and_english(shapes: Graph) -> None:
    # Stewards read validation results in their language (hub/validation picks by tag).
    descriptive = {"targetClass", "property", "severity", "message"}
    checking = {
        s
        for s, p, _ in shapes
        if p.startswith(str(SH)) and tail(p, str(SH)) in ALLOWED_SHACL - descriptive
    }
    with_message = set(shapes.subjects(SH.message, None))
    assert len(with_message) >= 60
    for shape in checking | with_message:
        where = shape if isinstance(shape, URIRef) else f"[sh:path {shapes.value(shape, SH.path)}]"
        messages = list(shapes.objects(shape, SH.message))
        langs = sorted(m.language or "(none)" for m in messages if isinstance(m, Literal))
        assert langs == sorted(LANGS), f"{where}: sh:message in {langs}; give one each in {LANGS}"
        texts = {str(m) for m in messages}
        assert len(texts) == 3 and all(t.strip() for t in texts), f"{where}: not translated"


def test_programme_conforms_to_shapes(programme: Graph, shapes: Graph) -> None:
    conforms, _, report = pyshacl.validate(programme, shacl_graph=shapes)
    assert conforms, report


# --- the demo data and mappings use what the ontology defines --------------


def category_slugs(themes: Graph) -> set[str]:
    return {
        str(c)[len(CATEGORY) :]
        for c in themes.subjects(RDF.type, SKOS.Concept)
        if str(c).startswith(CATEGORY)
    }


def test_demo_data_uses_known_regions_and_categories(themes: Graph) -> None:
    categories = category_slugs(themes)
    with sqlite3.connect(":memory:") as db:
        db.executescript((DEMO / "smartdest.sql").read_text(encoding="utf-8"))
        rows = db.execute("SELECT region, category FROM offer").fetchall()
    assert len(rows) >= 30
    with open(DEMO / "smartic-operators.csv", encoding="utf-8", newline="") as f:
        operators = list(csv.DictReader(f, delimiter=";"))
    assert len(operators) >= 20
    rows += [(op["region"], op["category"]) for op in operators]
    features = json.loads((DEMO / "itinera-trails.geojson").read_text(encoding="utf-8"))["features"]
    assert len(features) >= 10
    for feature in features:
        props = feature["properties"]
        rows += [(region, props["category"]) for region in props["regions"]]
        assert props["difficulty"] in {"easy", "moderate", "hard"}
        assert feature["geometry"]["type"] == "LineString"
    assert {region for region, _ in rows} == REGIONS
    assert {category for _, category in rows} <= categories


def test_mappings_refer_to_existing_concepts(programme: Graph, themes: Graph) -> None:
    concepts = {str(c) for c in themes.subjects(RDF.type, SKOS.Concept)}
    programme_iris = {str(s) for s in programme.subjects()}
    for path in (ROOT / "mappings").glob("*.yml"):
        text = path.read_text(encoding="utf-8")
        for slug in re.findall(r"\btheme:([a-z0-9-]+)~iri", text):
            assert THEME + slug in concepts, f"{path.name}: theme:{slug} is not in themes.ttl"
        for rest in re.findall(r"\bprogramme:([a-z0-9/-]+)~iri", text):
            assert PROGRAMME_BASE + rest in programme_iris, f"{path.name}: programme:{rest} unknown"


def test_config_sources_belong_to_programme_projects() -> None:
    config = load_config(ROOT / "hub.toml")
    assert set(config.sources) >= {"smartdest-offer", "itinera-trails", "smartic-operators"}
    for source in config.sources.values():
        assert source.project in PROJECTS, f"{source.id}: unknown project {source.project}"
        assert source.mapping in (f"mappings/{source.id}.yml", f"mappings/{source.id}.rq")


def test_build_demo_databases(tmp_path: Path) -> None:
    data = tmp_path / DATA_DIR
    data.mkdir(parents=True)
    sql = data / "smartdest.sql"
    shutil.copy(DEMO / "smartdest.sql", sql)
    db = data / "smartdest.sqlite"

    build_demo_databases(tmp_path)
    with sqlite3.connect(db) as connection:
        assert connection.execute("SELECT count(*) FROM offer").fetchone() == (40,)

    # Up to date: left alone.
    built = db.stat().st_mtime_ns
    build_demo_databases(tmp_path)
    assert db.stat().st_mtime_ns == built

    # The .sql changed: rebuilt from scratch (not appended to).
    future = built / 1e9 + 10
    os.utime(sql, (future, future))
    build_demo_databases(tmp_path)
    with sqlite3.connect(db) as connection:
        assert connection.execute("SELECT count(*) FROM offer").fetchone() == (40,)
    assert list(data.glob(".*")) == []


def test_shapes_allow_exactly_the_concepts_of_the_governance_schemes(
    shapes: Graph, themes: Graph
) -> None:
    # sh:in lists the concepts by hand; a concept added to themes.ttl must be added there too.
    for path, scheme in ((MH.actionStatus, ACTION_STATUS), (MH.supportType, SUPPORT_TYPE)):
        concepts = {c for c in themes.subjects(RDF.type, SKOS.Concept) if str(c).startswith(scheme)}
        lists = [shapes.value(s, SH["in"]) for s in shapes.subjects(SH.path, path)]
        allowed = [set(Collection(shapes, node)) for node in lists if node is not None]
        assert allowed and all(a == concepts for a in allowed), (path, allowed, concepts)
