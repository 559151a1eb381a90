"""The naive LangChain recipe, run side by side with ours on the same documents.

RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200), the same
MiniLM embeddings, a Chroma collection with its defaults, top-4 similarity search.
It only retrieves: the comparison is on retrieval metrics and retrieval latency.
"""

from __future__ import annotations

import time

import chromadb
from chromadb.config import Settings as ChromaSettings
from langchain_chroma import Chroma
from langchain_core.documents import Document as LCDocument
from langchain_text_splitters import RecursiveCharacterTextSplitter

from rag.index.embed import Embedder, LangChainEmbeddings
from rag.types import Document


class NaiveBaseline:
    name = "naive"
    top_k = 4

    def __init__(self, embedder: Embedder, documents: list[Document]) -> None:
        splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)
        chunks = splitter.split_documents(
            [LCDocument(page_content=d.text, metadata={"doc_id": d.doc_id}) for d in documents])
        client = chromadb.EphemeralClient(settings=ChromaSettings(anonymized_telemetry=False))
        self.store = Chroma(collection_name="naive-baseline", client=client,
                            embedding_function=LangChainEmbeddings(embedder))
        self.store.add_documents(chunks)
        self.n_chunks = len(chunks)

    def retrieve(self, question: str) -> tuple[list[str], float]:
        """(passage texts best first, milliseconds)."""
        t0 = time.perf_counter()
        found = self.store.similarity_search(question, k=self.top_k)
        return [d.page_content for d in found], (time.perf_counter() - t0) * 1000
