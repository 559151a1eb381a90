"""LangChain's own standard test suites (langchain-tests) against our components.

The retriever suite runs on the shipped corpus (corpus/) with the real packaged
model; so do the embeddings integration tests. The suites' classes are used as
published: no test is overridden (their `test_no_overrides_DO_NOT_OVERRIDE`
checks that).
"""

from __future__ import annotations

from typing import Any

import pytest
from langchain_tests.integration_tests import EmbeddingsIntegrationTests, RetrieversIntegrationTests
from langchain_tests.unit_tests import EmbeddingsUnitTests

from rag import Pipeline
from rag.config import DEFAULT_EMBEDDING_MODEL
from rag.integrations.langchain import NewsroomEmbeddings, NewsroomRetriever

from .conftest import make_settings


@pytest.fixture(scope="module")
def shipped(tmp_path_factory: pytest.TempPathFactory, embedder: Any) -> Pipeline:
    """An index of corpus/ alone (what `make run` builds), with the real model."""
    pipeline = Pipeline(make_settings(tmp_path_factory.mktemp("lc-shipped")), embedder=embedder)
    report = pipeline.ingest(progress=False)
    assert not report.failed and report.added
    return pipeline


@pytest.mark.real_model
class TestNewsroomRetrieverStandard(RetrieversIntegrationTests):
    @pytest.fixture(autouse=True)
    def _use_shipped_index(self, shipped: Pipeline) -> None:
        self._pipeline = shipped

    @property
    def retriever_constructor(self) -> type[NewsroomRetriever]:
        return NewsroomRetriever

    @property
    def retriever_constructor_params(self) -> dict[str, Any]:
        return {"pipeline": self._pipeline}

    @property
    def retriever_query_example(self) -> str:
        return "How many children were separated from their families?"


class _OurEmbeddings:
    """What both embeddings suites are told to construct."""

    @property
    def embeddings_class(self) -> type[NewsroomEmbeddings]:
        return NewsroomEmbeddings

    @property
    def embedding_model_params(self) -> dict[str, Any]:
        return {"model": DEFAULT_EMBEDDING_MODEL}


class TestNewsroomEmbeddingsUnit(_OurEmbeddings, EmbeddingsUnitTests):
    pass


@pytest.mark.real_model
class TestNewsroomEmbeddingsIntegration(_OurEmbeddings, EmbeddingsIntegrationTests):
    pass

