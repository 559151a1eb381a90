"""The sources desk: editors add, replace, edit and remove documents while the chat
keeps answering (the web page `/sources` and `/api/sources/...` in `ui.sources`,
`rag sources ...` in `cli.sources`).

Modules: `uploads` (upload checks), `urlguard` (SSRF-safe fetching), `reader` +
`sandbox` (reading a file in a bounded process), `jobs` (the one-at-a-time job
queue), `service` (`Desk`: the operations, as jobs), `auth` (editor tokens,
sessions, CSRF), `audit` (the JSON-lines audit log), `errors`. The desk manifest
(who added a document, from where) is `rag.ingest.provenance`, read by the ingest
too. The desk sits above ingest: it writes through an `Ingestor`
(`Pipeline.ingestor`) and may import `rag.config`, `rag.errors`, `rag.types`,
`rag.vocabulary` and `rag.ingest`; nothing in `rag` imports it.
"""
