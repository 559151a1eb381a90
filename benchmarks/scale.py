"""Scale benchmark: synthetic corpora of 10K, 100K and 1M chunks through the real
store (Chroma via langchain-chroma), the real BM25 index and the real retrieval path
(dense + BM25 + fusion + sentence reranking).

What is synthetic: the chunk texts (sentences drawn from a Zipf-distributed
vocabulary of 20,000 words) and their vectors (random unit vectors, 384 dimensions,
one sentence per chunk), since embedding a million real chunks with the real model
would take hours on 2 cores. What is real: Chroma's HNSW index and storage, the BM25
index, the fusion and reranking code, and the query embeddings (the packaged MiniLM).
The real model's own ingest speed on real text is measured separately (`--real`).

    .venv/bin/python -m benchmarks.scale --sizes 10000 100000 1000000 --out benchmarks/results

Prints a table and writes scale.json and scale.png. Retrieval latency is compared
with a baseline run in the same process: Chroma's plain top-k query at the same size.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from rag import Pipeline, Settings
from rag.index.embed import SentenceTransformerEmbedder
from rag.ingest.lock import ingest_lock
from rag.types import Chunk, Document, SourceInfo, Span

DIM = 384
PER_DOC = 1000
VOCAB = 20_000


def _words(rng: np.random.Generator) -> np.ndarray:
    syllables = ["ka", "lo", "mi", "ten", "sar", "vo", "ri", "den", "pa", "gul", "tor", "ne"]
    words = {"".join(rng.choice(syllables, size=rng.integers(2, 5))) for _ in range(VOCAB * 2)}
    return np.array(sorted(words)[:VOCAB])


def _doc(i: int, rng: np.random.Generator, vocab: np.ndarray, weights: np.ndarray
         ) -> tuple[Document, list[Chunk]]:
    sentences = []
    for _ in range(PER_DOC):
        n = int(rng.integers(12, 30))
        sentences.append(" ".join(rng.choice(vocab, size=n, p=weights)).capitalize() + ".")
    text = "\n\n".join(sentences)
    doc = Document(SourceInfo(f"synthetic-{i:05d}", f"Synthetic document {i}"), text,
                   f"{i:064d}")
    chunks, offset = [], 0
    for j, sentence in enumerate(sentences):
        span = Span(offset, offset + len(sentence))
        chunks.append(Chunk(f"{doc.doc_id}:{doc.content_hash[:12]}:{j}", doc.doc_id, j,
                            span.start, span.end, sentence, None, (span,)))
        offset += len(sentence) + 2
    return doc, chunks


def _unit(rng: np.random.Generator, n: int) -> np.ndarray:
    v = rng.standard_normal((n, DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def _du(path: Path) -> int:
    return int(subprocess.run(["du", "-sb", str(path)], capture_output=True, text=True,
                              check=True).stdout.split()[0])


def build(size: int, folder: Path, embedder: SentenceTransformerEmbedder) -> dict[str, float]:
    rng = np.random.default_rng(size)
    vocab = _words(rng)
    weights = 1.0 / np.arange(1, len(vocab) + 1)
    weights /= weights.sum()
    settings = Settings(data_dir=folder)
    pipeline = Pipeline(settings, embedder=embedder)
    started = time.perf_counter()
    with ingest_lock(folder):
        pipeline.store.open(create=True)
        for i in range(size // PER_DOC):
            doc, chunks = _doc(i, rng, vocab, weights)
            vectors = _unit(rng, len(chunks))
            pipeline.store.replace_document(doc, chunks, vectors, vectors)
    ingest_s = time.perf_counter() - started
    return {"chunks": size, "ingest_seconds": ingest_s, "chunks_per_second": size / ingest_s,
            "disk_mb": _du(folder) / 2**20}


def measure(size: int, folder: Path, embedder: SentenceTransformerEmbedder,
            queries: list[str]) -> dict[str, float]:
    pipeline = Pipeline(Settings(data_dir=folder), embedder=embedder)
    t0 = time.perf_counter()
    pipeline.warm_up()
    load_s = time.perf_counter() - t0
    ours, base = [], []
    for q in queries:
        t0 = time.perf_counter()
        pipeline.retrieve(q)  # embed, hybrid search, sentence reranking
        ours.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        vec = embedder.embed([q])[0]
        pipeline.store.dense_search(vec, 4)
        base.append((time.perf_counter() - t0) * 1000)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"load_seconds": load_s, "max_rss_mb": rss,
            "retrieve_p50_ms": float(np.percentile(ours, 50)),
            "retrieve_p95_ms": float(np.percentile(ours, 95)),
            "chroma_topk_p50_ms": float(np.percentile(base, 50)),
            "chroma_topk_p95_ms": float(np.percentile(base, 95))}


def real_ingest(embedder: SentenceTransformerEmbedder, corpus: list[Path]) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        pipeline = Pipeline(Settings(data_dir=Path(tmp)), embedder=embedder)
        embedder.embed(["load the model first"])
        report = pipeline.ingest(corpus, progress=False)
        return {"chunks": report.chunks_written, "seconds": report.seconds,
                "chunks_per_second": report.chunks_written / report.seconds}


def plot(rows: list[dict[str, float]], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = [r["chunks"] for r in rows]
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    axes[0].plot(sizes, [r["retrieve_p50_ms"] for r in rows], marker="o", label="ours p50")
    axes[0].plot(sizes, [r["retrieve_p95_ms"] for r in rows], marker="o", label="ours p95")
    axes[0].plot(sizes, [r["chroma_topk_p95_ms"] for r in rows], marker="s",
                 label="Chroma top-4 p95")
    axes[0].axhline(300, color="red", ls="--", lw=1, label="target p95 300 ms")
    axes[0].set(xscale="log", xlabel="chunks", ylabel="ms", title="Retrieval latency")
    axes[0].legend(fontsize=8)
    axes[1].plot(sizes, [r["chunks_per_second"] for r in rows], marker="o")
    axes[1].set(xscale="log", xlabel="chunks", ylabel="chunks/s", title="Ingest throughput")
    axes[2].plot(sizes, [r["disk_mb"] for r in rows], marker="o", label="disk MB")
    axes[2].plot(sizes, [r["max_rss_mb"] for r in rows], marker="s", label="peak RSS MB")
    axes[2].set(xscale="log", yscale="log", xlabel="chunks", title="Size")
    axes[2].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    parser.add_argument("--real", type=Path, nargs="*", default=[],
                        help="real documents to time the real model's ingest on")
    parser.add_argument("--keep", action="store_true", help="keep the built indexes")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    embedder = SentenceTransformerEmbedder(Settings().embedding)
    queries = [f"query about {w} and {v}" for w, v in zip(
        ["kalo", "miten", "sarvo", "ridenpa", "gultor", "neka", "lomi", "tenri"] * 5,
        ["voka", "denpa", "torne", "kami", "lori", "paten", "sargul", "vori"] * 5)]
    rows = []
    for size in args.sizes:
        folder = Path(tempfile.mkdtemp(prefix=f"rag-scale-{size}-"))
        row = build(size, folder, embedder)
        row.update(measure(size, folder, embedder, queries))
        rows.append(row)
        print(json.dumps(row), flush=True)
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    result: dict[str, object] = {"rows": rows}
    if args.real:
        result["real_model_ingest"] = real_ingest(embedder, args.real)
    (args.out / "scale.json").write_text(json.dumps(result, indent=2))
    plot(rows, args.out / "scale.png")
    print(f"{'chunks':>9} {'ingest/s':>9} {'disk MB':>8} {'RSS MB':>8} {'load s':>7} "
          f"{'p50 ms':>7} {'p95 ms':>7} {'topk p95':>8} {'ratio':>6}")
    for r in rows:
        print(f"{r['chunks']:>9,} {r['chunks_per_second']:>9.0f} {r['disk_mb']:>8.0f} "
              f"{r['max_rss_mb']:>8.0f} {r['load_seconds']:>7.1f} {r['retrieve_p50_ms']:>7.1f} "
              f"{r['retrieve_p95_ms']:>7.1f} {r['chroma_topk_p95_ms']:>8.1f} "
              f"{r['retrieve_p95_ms'] / r['chroma_topk_p95_ms']:>5.1f}x")
    if "real_model_ingest" in result:
        print("real model ingest:", json.dumps(result["real_model_ingest"]))


if __name__ == "__main__":
    main()
