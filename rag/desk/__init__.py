"""The sources desk: editors add, replace, edit and remove documents while the chat
keeps answering (the web page `/sources`, `/api/sources/...`, `rag sources ...`).

Modules: `provenance` (the desk manifest), `uploads` (upload checks), `urlguard`
(SSRF-safe fetching), `reader` + `sandbox` (reading a file in a bounded process),
`jobs` (the one-at-a-time job queue), `service` (the operations, as jobs),
`auth` (editor tokens, sessions, CSRF), `audit` (the JSON-lines audit log),
`errors`. Nothing here is imported by `rag/__init__`, except `provenance` by the
pipeline (a rebuild keeps desk metadata); this package uses the pipeline's public
methods only.
"""
