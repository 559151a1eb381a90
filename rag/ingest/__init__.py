"""Ingest: files in, normalized documents, chunks and vectors written to the index.

`load` (txt/md/html/pdf to a `Document`), `normalize`, `pdf` + `pdf_layout` (PDFs
read the way a person reads them), `chunk`, `manifest` (provenance), `provenance`
(the sources desk's manifest: who added a document, from where, when), `fetch`
(`rag corpus fetch`), `lock` (one ingest per data directory), and `ingestor`
(`Ingestor`, `IngestReport`: the write path, also the desk's `add_documents`,
`remove_documents`, `inventory`). May import `rag.config`, `rag.errors`,
`rag.types`, `rag.vocabulary` and `rag.index`; nothing of the read side.
"""
