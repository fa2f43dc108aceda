"""Neutral helpers that harvesters, mapping and pipeline share.

Standard library and pyoxigraph only: nothing here imports another `hub` module or
`harvesters` (tests/test_import_arrows.py keeps it so), so any layer may use it.

    ahead      Ahead: a transaction prepared beside the store's write, committed when told
    chunks     ChunkReader: a binary file over an iterator of byte chunks
    jsonpath   the JSONPath subset mappings and the `rest` kind use
    ntriples   ntriples_chunks: triples as UTF-8 N-Triples chunks
    sparql_text  a query's keywords without a parser: dataset clauses, BASE
"""
