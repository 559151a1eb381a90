"""The public widget's traffic: readers of one article, and one abusive script.

Run through `python -m benchmarks.load_test --readers 200 --seconds 60`.

(a) N readers, each from its own address (sent as X-Forwarded-For; the server trusts
    127.0.0.1 as its proxy), ask a hot mix: 80% of questions among 5, the rest drawn
    from every eval question set, pausing between questions as a reader does.
(b) the same readers (same seeds, so the same questions at the same moments) plus
    one client firing --abuser-rps requests a second from one address (in its own
    process, as it would be on its own machine).

Each run gets a fresh `rag serve` process (cold cache, same start), so (b) differs
from (a) only by the abusive client. Printed: per run, readers' requests, errors
(anything but 200 for a reader), cache hit rate (from the answers' `cached`), p50
and p95; the abuser's 200s and 429s; and (b)/(a) as ratios. Bounded: the run stops
at its deadline and every connection is closed.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import random
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np

from evals.questions import load_questions

HOT = [
    "How many children were separated from their families?",
    "Who drafted the policy directive telling U.S. attorneys to prosecute?",
    "How long did prosecutions take, according to U.S. attorneys?",
    "Who chairs the Interagency Task Force on the Reunification of Families?",
    "When did the attorney general announce the zero tolerance policy?",
]
QUESTION_SETS = ["questions", "holdout", "fresh", "unseen"]


@dataclass
class Outcomes:
    readers: list[tuple[int, float, bool]] = field(default_factory=list)  # status, ms, cached
    abuser: list[int] = field(default_factory=list)  # statuses


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def served() -> Iterator[str]:
    """A fresh `rag serve` process on loopback, trusting 127.0.0.1 as its proxy."""
    port = _free_port()
    env = {**os.environ, "RAG_SERVE__LIMITS__TRUSTED_PROXIES": '["127.0.0.1"]',
           "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    proc = subprocess.Popen([sys.executable, "-m", "cli", "serve", "--port", str(port)],
                            env=env, stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                if httpx.get(f"{url}/api/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("rag serve did not start (is anything indexed?)")
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


async def _reader(client: httpx.AsyncClient, url: str, i: int, cold: list[str],
                  think: tuple[float, float], deadline: float, out: Outcomes) -> None:
    rng = random.Random(i)
    address = f"10.{i // 62500 % 256}.{i // 250 % 250}.{i % 250 + 1}"
    await asyncio.sleep(rng.uniform(0, think[1]))  # readers arrive spread out
    while time.monotonic() < deadline:
        question = rng.choice(HOT) if rng.random() < 0.8 else rng.choice(cold)
        t0 = time.perf_counter()
        try:
            r = await client.post(f"{url}/api/ask", json={"question": question},
                                  headers={"X-Forwarded-For": address})
            status, cached = r.status_code, r.status_code == 200 and r.json()["cached"]
        except httpx.HTTPError:
            status, cached = -1, False
        out.readers.append((status, (time.perf_counter() - t0) * 1000, bool(cached)))
        await asyncio.sleep(rng.uniform(*think))


async def _abuse(url: str, rps: float, cold: list[str], seconds: float) -> list[int]:
    """Open loop: a request every 1/rps seconds whether or not the last one returned,
    each a different question (so none of its answers could come from the cache)."""
    statuses: list[int] = []

    async def one(client: httpx.AsyncClient, question: str) -> None:
        try:
            r = await client.post(f"{url}/api/ask", json={"question": question},
                                  headers={"X-Forwarded-For": "203.0.113.66"})
            statuses.append(r.status_code)
        except httpx.HTTPError:
            statuses.append(-1)

    deadline = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        tasks, due, n = [], time.monotonic(), 0
        while time.monotonic() < deadline:
            tasks.append(asyncio.create_task(one(client, cold[n % len(cold)])))
            n += 1
            due += 1 / rps
            await asyncio.sleep(max(0.0, due - time.monotonic()))
        await asyncio.gather(*tasks)
    return statuses


def abuse(url: str, rps: float, cold: list[str], seconds: float) -> list[int]:
    """The abusive client, run in its own process: on the readers' event loop its
    work would delay their requests on the client side and be mistaken for the
    server's."""
    return asyncio.run(_abuse(url, rps, cold, seconds))


async def _readers(url: str, readers: int, seconds: float, think: tuple[float, float],
                   cold: list[str], out: Outcomes) -> None:
    deadline = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=readers + 8, max_keepalive_connections=readers + 8)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        await asyncio.gather(*(_reader(client, url, i, cold, think, deadline, out)
                               for i in range(readers)))


def run_readers(url: str, readers: int, seconds: float, think: tuple[float, float],
                cold: list[str], abuser_rps: float = 0.0) -> Outcomes:
    out = Outcomes()
    if not abuser_rps:
        asyncio.run(_readers(url, readers, seconds, think, cold, out))
        return out
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(1, mp_context=spawn) as pool:
        pool.submit(int, 0).result()  # the process is up before the clock starts
        abuser = pool.submit(abuse, url, abuser_rps, cold, seconds)
        asyncio.run(_readers(url, readers, seconds, think, cold, out))
        out.abuser = abuser.result()
    return out


def summarize(out: Outcomes) -> dict[str, float]:
    ok = [ms for status, ms, _ in out.readers if status == 200]
    hits = sum(1 for status, _, cached in out.readers if status == 200 and cached)
    return {"requests": len(out.readers), "ok": len(ok),
            "errors": sum(1 for status, _, _ in out.readers if status != 200),
            "hit_rate": hits / len(ok) if ok else float("nan"),
            "p50_ms": float(np.percentile(ok, 50)) if ok else float("nan"),
            "p95_ms": float(np.percentile(ok, 95)) if ok else float("nan"),
            "abuser_sent": len(out.abuser),
            "abuser_ok": sum(1 for s in out.abuser if s == 200),
            "abuser_429": sum(1 for s in out.abuser if s == 429)}


def _line(name: str, r: dict[str, float]) -> str:
    text = (f"{name}: {r['requests']} reader questions, {r['ok']} ok, {r['errors']} errors, "
            f"cache hit rate {r['hit_rate']:.1%}, p50 {r['p50_ms']:.1f} ms, "
            f"p95 {r['p95_ms']:.1f} ms")
    if r["abuser_sent"]:
        text += (f"; abuser sent {r['abuser_sent']}: {r['abuser_ok']} ok, "
                 f"{r['abuser_429']} refused with 429")
    return text


def main(readers: int, seconds: float, abuser_rps: float, think: tuple[float, float],
         rounds: int = 1) -> None:
    """Runs (a) then (b); with `rounds` 2, a b b a (so a machine whose load drifts
    during the benchmark weighs on both alike), the runs of each kind pooled."""
    cold = [q.question for name in QUESTION_SETS
            for q in load_questions(Path("evals") / f"{name}.jsonl")]
    pooled = {"a": Outcomes(), "b": Outcomes()}
    for name in ("ab" + "ba" * (rounds - 1))[:2 * rounds]:
        rps = abuser_rps if name == "b" else 0.0
        with served() as url:
            load = os.getloadavg()[0]
            out = run_readers(url, readers, seconds, think, cold, rps)
        pooled[name].readers += out.readers
        pooled[name].abuser += out.abuser
        print(_line(f"({name}) {readers} readers, {seconds:.0f} s"
                    + (f" + abuser at {rps:.0f} req/s" if rps else ""), summarize(out))
              + f" [machine load {load:.1f} at start]", flush=True)
    results = {name: summarize(out) for name, out in pooled.items()}
    a, b = results["a"], results["b"]
    if rounds > 1:
        print(_line(f"(a) pooled over {rounds} runs", a))
        print(_line(f"(b) pooled over {rounds} runs", b))
    print(f"ratio (b)/(a): readers' p50 {b['p50_ms'] / a['p50_ms']:.2f}x, "
          f"p95 {b['p95_ms'] / a['p95_ms']:.2f}x (goal: p95 <= 1.5x); "
          f"abuser refused {b['abuser_429'] / max(1, b['abuser_sent']):.1%}")
    print(json.dumps(results))
