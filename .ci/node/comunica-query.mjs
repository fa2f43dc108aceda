// Ask a SPARQL endpoint one query through Comunica (@comunica/query-sparql), as a
// JavaScript client of the hub would, and print the answer as JSON on stdout:
//   SELECT:    {"type": "bindings", "rows": [{"var": {"termType", "value", "datatype", "language"}}]}
//   CONSTRUCT: {"type": "quads", "quads": [{"subject": term, "predicate": term, "object": term}]}
//   ASK:       {"type": "boolean", "value": true}
//
//   node .ci/node/comunica-query.mjs http://127.0.0.1:8000/sparql 'SELECT * WHERE { ?s ?p ?o } LIMIT 1'
//
// Installed by .ci/run: npm install --no-save --no-package-lock --prefix .ci/node
// (.ci/node/package.json; docs/decisions.md #26 says why Comunica 4 and the override).
import { QueryEngine } from "@comunica/query-sparql";

const [endpoint, query] = process.argv.slice(2);
if (!endpoint || !query) {
  console.error("usage: node comunica-query.mjs ENDPOINT QUERY");
  process.exit(2);
}

function term(t) {
  const out = { termType: t.termType, value: t.value };
  if (t.termType === "Literal") {
    out.datatype = t.datatype.value;
    out.language = t.language;
  }
  return out;
}

const engine = new QueryEngine();
// `sparql@URL` on Comunica's command line: the endpoint is a SPARQL source, so the
// query goes to it over the SPARQL 1.1 Protocol.
const result = await engine.query(query, { sources: [{ type: "sparql", value: endpoint }] });
let answer;
if (result.resultType === "bindings") {
  const rows = await (await result.execute()).toArray();
  answer = {
    type: "bindings",
    rows: rows.map((b) => Object.fromEntries([...b].map(([v, t]) => [v.value, term(t)]))),
  };
} else if (result.resultType === "quads") {
  const quads = await (await result.execute()).toArray();
  answer = {
    type: "quads",
    quads: quads.map((q) => ({ subject: term(q.subject), predicate: term(q.predicate), object: term(q.object) })),
  };
} else {
  answer = { type: "boolean", value: await result.execute() };
}
process.stdout.write(JSON.stringify(answer));
