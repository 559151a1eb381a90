"""The README's LangChain example runs as written (real model, shipped corpus, fake chat model)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.messages import BaseMessage

from rag import Pipeline

from .conftest import PROJECT_CORPUS, ROOT, make_settings

pytestmark = pytest.mark.real_model

REPLY = "More than 3,000 children were separated from their families [1]."


class RecordingChatModel(FakeListChatModel):
    """FakeListChatModel that also keeps the messages it was sent."""

    seen: list[list[BaseMessage]] = []

    def _call(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> str:
        self.seen.append(messages)
        return super()._call(messages, *args, **kwargs)


def readme_example() -> str:
    """The python block of the README's LangChain section, exactly as printed there."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## In your own LangChain code", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, re.DOTALL)
    assert len(blocks) == 1, "expected one python example in the LangChain section"
    return blocks[0]


def test_readme_example_runs_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str], embedder) -> None:
    settings = make_settings(tmp_path)
    Pipeline(settings, embedder=embedder).ingest([PROJECT_CORPUS], progress=False)
    # The example reads its settings from the environment, as a user's script would.
    monkeypatch.setenv("RAG_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("RAG_CORPUS_DIR", str(PROJECT_CORPUS))
    chat_model = RecordingChatModel(responses=[REPLY], seen=[])
    namespace: dict[str, Any] = {"chat_model": chat_model, "__name__": "readme_example"}

    exec(compile(readme_example(), "README.md", "exec"), namespace)  # noqa: S102

    out = capsys.readouterr().out
    assert out.startswith(REPLY + "\n")  # the chain's answer is the chat model's
    prompt = chat_model.seen[0][-1].content
    assert "[1] " in prompt and "3,000" in prompt  # it was given the retrieved passages
    assert "Question: How many children were separated from their families?" in prompt
    assert len(namespace["retriever"].invoke("separated children")) == 4  # k=4
    # The pipeline's own answers came out of the LCEL pipeline and the stream (what
    # they say is the answerer's business, tested elsewhere).
    qa = namespace["qa"]
    asked = qa.invoke("How many children were separated from their families?")["answer"]
    assert out.split("\n", 1)[1].startswith(asked + "\n")
    streamed = namespace["chunk"]
    assert set(streamed) >= {"answer", "citations", "status"} and streamed["citations"]
    assert out.endswith(streamed["answer"] + "\n")
