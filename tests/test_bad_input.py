"""Bad input: each gets a clear message naming the problem; nothing indexed is lost."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from fpdf import FPDF
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from pypdf import PdfReader, PdfWriter

from rag import Pipeline

from .conftest import make_settings
from .fakes import FakeEmbedder
from .conftest import ANSWER_KEYS

QUESTION = "How many mooring permits did the commission approve?"


def _pdf(path: Path, text: str) -> Path:
    pdf = FPDF()
    pdf.set_font("helvetica", size=12)
    pdf.add_page()
    pdf.multi_cell(0, 10, text)
    pdf.output(str(path))
    return path


@pytest.fixture
def indexed(tmp_path: Path, small_corpus: Path) -> Pipeline:
    pipeline = Pipeline(make_settings(tmp_path), embedder=FakeEmbedder())
    pipeline.ingest([small_corpus], progress=False)
    return pipeline


def test_bad_documents_are_named_and_the_index_survives(indexed: Pipeline,
                                                        tmp_path: Path) -> None:
    before = indexed.ask(QUESTION).to_dict()["citations"]
    bad = tmp_path / "bad"
    bad.mkdir()
    with (bad / "huge.txt").open("wb") as fh:  # 100 MB, sparse: costs no disk
        fh.truncate(100 * 2**20)
    plain = _pdf(tmp_path / "plain.pdf", "Secret budget memo for the harbor.")
    writer = PdfWriter(clone_from=PdfReader(plain))
    writer.encrypt("password")
    with (bad / "locked.pdf").open("wb") as fh:
        writer.write(fh)
    (bad / "report.txt").write_bytes(plain.read_bytes())      # a PDF with a .txt name
    (bad / "notes.pdf").write_text("just some notes, not a PDF")
    (bad / "empty.md").write_text("")
    report = indexed.ingest([bad], progress=False)
    reasons = {Path(e.path).name: e.reason for e in report.failed}
    assert "over the 64 MiB limit" in reasons["huge.txt"]
    assert "encrypted PDF" in reasons["locked.pdf"]
    assert "rename it to .pdf" in reasons["report.txt"]
    assert "no %PDF header" in reasons["notes.pdf"]
    assert reasons["empty.md"] == "empty file"
    assert indexed.stats()["documents"] == 2
    assert indexed.ask(QUESTION).to_dict()["citations"] == before


@pytest.mark.parametrize("question", [
    "¿Cuántos permisos de amarre aprobó la comisión?", "委员会批准了多少个泊位许可证？",
    "SELECT * FROM documents; --", "👍" * 40, "a" * 999])
def test_odd_but_valid_questions_get_an_answer_or_a_refusal(indexed: Pipeline,
                                                            question: str) -> None:
    answer = indexed.ask(question)
    assert answer.refused or answer.citations


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    from ui.app import create_app

    tmp = tmp_path_factory.mktemp("fuzz")
    (tmp / "docs").mkdir()
    (tmp / "docs" / "harbor.txt").write_text(
        "The commission approved 42 new mooring permits for the north basin.\n")
    # Hundreds of bodies from one address: the per-client limit is tested elsewhere.
    settings = make_settings(tmp, serve={"limits": {"rate_limit": False}})
    pipeline = Pipeline(settings, embedder=FakeEmbedder(name=settings.embedding.model))
    pipeline.ingest([tmp / "docs"], progress=False)
    return TestClient(create_app(settings, pipeline), raise_server_exceptions=False)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=50),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner,
                                                                 max_size=4), max_leaves=12)


@hsettings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.one_of(
    st.fixed_dictionaries({"question": st.text(max_size=1200)},
                          optional={"history": json_values}),
    json_values))
def test_api_ask_never_fails_on_any_json(api: TestClient, body: object) -> None:
    r = api.post("/api/ask", content=json.dumps(body), headers={"content-type": "application/json"})
    assert r.status_code in (200, 400, 422), (body, r.status_code, r.text[:200])
    data = r.json()
    if r.status_code == 200:
        assert set(data) == ANSWER_KEYS
    elif r.status_code == 400:
        assert data["error"]


@hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.binary(max_size=300))
def test_api_ask_survives_raw_bytes(api: TestClient, raw: bytes) -> None:
    r = api.post("/api/ask", content=raw, headers={"content-type": "application/json"})
    assert r.status_code in (200, 400, 422)
