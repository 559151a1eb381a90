"""`rag sources [add|replace|edit|remove|token]`: the list of indexed documents, and
the sources desk's operations from a shell, run as jobs in this process (the same
reading sandbox, checks, provenance and audit log as the web page's, `rag.desk`)."""

from __future__ import annotations

import argparse
import getpass
import secrets
import sys
from pathlib import Path
from typing import Any

from cli.render import render_sources
from rag import Pipeline
from rag.desk.auth import token_entry
from rag.desk.jobs import Job
from rag.desk.service import Desk, Meta
from rag.desk.uploads import Staged, check_name, copy_in, staged_path
from rag.ingest.manifest import KINDS


def add_parser(sub: Any) -> None:
    """Register `rag sources [add|replace|edit|remove|token]` on the CLI's sub-parsers
    (`sub`, from `argparse.ArgumentParser.add_subparsers`)."""
    src = sub.add_parser("sources", help="list the ingested documents; with a sub-command, "
                         "change them as the sources desk does")
    ops = src.add_subparsers(dest="sources_command")
    add = ops.add_parser("add", help="add files or http(s) URLs")
    add.add_argument("items", nargs="+", help="files (.pdf .html .md .txt) or URLs")
    _meta_options(add)
    rep = ops.add_parser("replace", help="replace a desk document with a new version")
    rep.add_argument("doc_id")
    rep.add_argument("file", type=Path)
    edit = ops.add_parser("edit", help="change a document's title, publisher, date or kind")
    edit.add_argument("doc_id")
    _meta_options(edit)
    rm = ops.add_parser("remove", help="remove desk documents from the index")
    rm.add_argument("doc_ids", nargs="+")
    for p in (add, rep, edit, rm):
        p.add_argument("--editor", help="name recorded in the audit log (default: cli:USER)")
    tok = ops.add_parser("token", help="make an editor token and its RAG_SERVE__EDITOR_TOKENS "
                         "entry (only the hash is configured)")
    tok.add_argument("label", help="the editor's name, shown in provenance and the audit log")


def _meta_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--title")
    p.add_argument("--publisher")
    p.add_argument("--date", help="e.g. 2026-12-02")
    p.add_argument("--kind", choices=KINDS)


def run(args: argparse.Namespace, pipeline: Pipeline) -> int:
    """List the sources, or run one sub-command; 0 when every job succeeded, 1 otherwise."""
    if not args.sources_command:
        print(render_sources(pipeline.sources()))
        return 0
    if args.sources_command == "token":
        token, entry = token_entry(args.label)
        print(f"token for {args.label} (give it to them; it is not stored):\n  {token}\n"
              f"add this entry to RAG_SERVE__EDITOR_TOKENS (a JSON list):\n  {entry}")
        return 0
    desk = Desk(pipeline.ingestor, inline=True)
    for note in desk.recover():
        print(f"note: {note}", file=sys.stderr)
    editor = args.editor or f"cli:{getpass.getuser()}"
    jobs = _jobs(args, desk, editor)
    for job in jobs:
        line = job.result if job.status == "done" else f"error: {job.error}"
        print(line, file=sys.stdout if job.status == "done" else sys.stderr)
    return 0 if all(j.status == "done" for j in jobs) else 1


def _jobs(args: argparse.Namespace, desk: Desk, editor: str) -> list[Job]:
    cmd = args.sources_command
    if cmd == "remove":
        return [desk.remove(doc_id, editor) for doc_id in args.doc_ids]
    meta = Meta(args.title, args.publisher, args.date, args.kind) if cmd != "replace" else Meta()
    if cmd == "edit":
        return [desk.edit(args.doc_id, meta, editor)]
    if cmd == "replace":
        return [desk.replace(args.doc_id, _stage(desk, args.file), editor)]
    return [desk.add_url(item, editor, meta) if item.startswith(("http://", "https://"))
            else desk.add_file(_stage(desk, Path(item)), editor, meta) for item in args.items]


def _stage(desk: Desk, source: Path) -> Staged:
    suffix = check_name(source.name)
    dest = staged_path(desk.staging, secrets.token_hex(8), source.name, suffix)
    return copy_in(source, dest, suffix, desk.cfg.max_upload_mb * 2**20)
