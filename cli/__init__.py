"""The `rag` command, above the library and its front ends.

It parses the command line, builds `Settings` once, and dispatches: `ingest`,
`ask`, `sources`, `corpus fetch` and `models` call the `rag` facade (`sources add|
replace|edit|remove|token` the sources desk, `rag.desk`: `sources`); `serve` calls
`ui`, `eval` calls `evals` (each loaded only when asked for). Domain errors
become exit codes here and only here. `rag/` never imports this package.
"""
