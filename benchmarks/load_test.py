"""Load tests over loopback, bounded in count and time.

    RAG_DATA_DIR=data/eval .venv/bin/python -m benchmarks.load_test --users 16 64
    .venv/bin/python -m benchmarks.load_test --url http://127.0.0.1:7860 --users 16
    RAG_DATA_DIR=data/eval .venv/bin/python -m benchmarks.load_test --readers 200 --seconds 60

--users: N users each send --per-user questions one after another; the run stops
after --seconds. Without --url it serves the app itself on a loopback port with the
real pipeline. Prints errors (anything but 200), 429/503 answers, p50/p95 and
throughput.

--readers: the public widget's traffic (see `benchmarks/readers.py`): run (a) N readers
asking a hot mix, then run (b) the same readers plus one abusive client, each against
a fresh `rag serve` process, and prints (b) against (a) as ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from contextlib import nullcontext
from pathlib import Path

import httpx
import numpy as np

from evals.questions import load_questions


async def _user(client: httpx.AsyncClient, url: str, questions: list[str], n: int,
                deadline: float, out: list[tuple[int, float]]) -> None:
    for i in range(n):
        if time.monotonic() > deadline:
            return
        t0 = time.perf_counter()
        try:
            r = await client.post(f"{url}/api/ask", json={"question": questions[i % len(questions)]})
            status = r.status_code
        except httpx.HTTPError:
            status = -1
        out.append((status, (time.perf_counter() - t0) * 1000))


async def run(url: str, users: int, per_user: int, seconds: float,
              questions: list[str]) -> dict[str, float]:
    out: list[tuple[int, float]] = []
    deadline = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=users, max_keepalive_connections=users)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        t0 = time.perf_counter()
        await asyncio.gather(*(_user(client, url, questions[u:] + questions[:u], per_user,
                                     deadline, out) for u in range(users)))
        wall = time.perf_counter() - t0
    ok = [ms for status, ms in out if status == 200]
    return {"users": users, "requests": len(out), "ok": len(ok),
            "shed_429_503": sum(1 for s, _ in out if s in (429, 503)),
            "errors": sum(1 for s, _ in out if s not in (200, 429, 503)),
            "p50_ms": float(np.percentile(ok, 50)) if ok else float("nan"),
            "p95_ms": float(np.percentile(ok, 95)) if ok else float("nan"),
            "per_second": len(out) / wall}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url")
    parser.add_argument("--users", type=int, nargs="+", default=[16, 64])
    parser.add_argument("--per-user", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--questions", type=Path, default=Path("evals/questions.jsonl"))
    parser.add_argument("--readers", type=int, help="run the readers scenario instead")
    parser.add_argument("--abuser-rps", type=float, default=50.0)
    parser.add_argument("--think", type=float, nargs=2, default=(2.0, 8.0),
                        help="seconds a reader pauses between questions (uniform)")
    parser.add_argument("--rounds", type=int, default=1,
                        help="readers scenario: 2 runs a b b a and pools each kind")
    args = parser.parse_args()
    if args.readers:
        from benchmarks.readers import main as readers_main

        readers_main(args.readers, args.seconds, args.abuser_rps, tuple(args.think),
                     args.rounds)
        return
    questions = [q.question for q in load_questions(args.questions)]
    if args.url:
        serving_ctx = nullcontext(args.url)
    else:
        from rag import Pipeline, Settings
        from devtools.web import serving
        from ui.app import create_app

        settings = Settings()
        pipeline = Pipeline(settings)
        pipeline.warm_up()
        serving_ctx = serving(create_app(settings, pipeline))
    with serving_ctx as url:
        for users in args.users:
            r = asyncio.run(run(url, users, args.per_user, args.seconds, questions))
            print(f"{r['users']:3d} users: {r['requests']} requests, {r['ok']} ok, "
                  f"{r['shed_429_503']} shed (429/503), {r['errors']} errors; "
                  f"p50 {r['p50_ms']:.0f} ms, p95 {r['p95_ms']:.0f} ms, "
                  f"{r['per_second']:.1f} req/s")


if __name__ == "__main__":
    main()
