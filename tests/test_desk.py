"""The sources desk's operations, through the pipeline, with the fake embedder:
add, duplicate, edit, replace, remove, provenance, audit, failed and killed jobs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rag.desk.jobs import JobQueue, new_job
from rag.ingest.provenance import DeskManifest, safe_stem
from rag.desk.service import Meta

from .conftest import ROOT
from .desk_support import HARBOR, HARBOR_Q, add_text, cited, make_desk, pdf, run, stage


@pytest.fixture
def desk(tmp_path: Path):  # type: ignore[no-untyped-def]
    return make_desk(tmp_path)


def test_an_upload_is_answerable_with_its_provenance_and_audit(desk, tmp_path: Path) -> None:
    assert "harbor" not in cited(desk)
    job = add_text(desk, tmp_path, meta=Meta(title="Harbor bulletin", publisher="Port Gazette"))
    assert job.status == "done", job.error
    assert job.stage == "done" and job.progress == 1.0
    assert job.result.startswith("harbor.txt: added as 'harbor'")
    assert "harbor" in cited(desk)
    row = next(r for r in desk.documents() if r["doc_id"] == "harbor")
    assert row["title"] == "Harbor bulletin" and row["publisher"] == "Port Gazette"
    assert row["origin"] == "upload" and row["added_by"] == "alice" and row["desk"]
    assert row["chunks"] >= 1 and len(row["content_hash"]) == 64
    assert row["provenance"].startswith("uploaded by alice on ")
    record = DeskManifest(desk.pipeline.settings.desk_dir).get("harbor")
    assert record.content_hash == row["content_hash"]
    assert (desk.manifest.files / record.file).read_text() == HARBOR
    [entry] = desk.audit.entries()
    assert entry["editor"] == "alice" and entry["action"] == "add-file"
    assert entry["outcome"] == "ok" and entry["content_hash"] == row["content_hash"]
    assert not list(desk.staging.rglob("*.txt"))  # the staged copy is gone


def test_a_duplicate_upload_is_reported_and_not_indexed_twice(desk, tmp_path: Path) -> None:
    add_text(desk, tmp_path)
    before = desk.documents()
    again = add_text(desk, tmp_path, name="copy-of-harbor.txt")
    assert again.status == "failed"
    assert again.error == ("copy-of-harbor.txt: same content as the indexed 'harbor' (harbor); "
                           "not indexed twice")
    assert desk.documents() == before
    assert desk.audit.entries()[-1]["outcome"] == "failed"


def test_edit_changes_metadata_and_the_kind_filter(desk, tmp_path: Path) -> None:
    add_text(desk, tmp_path)
    with pytest.raises(Exception, match="unknown kind"):
        desk.pipeline.ask(HARBOR_Q, kinds=["fact-sheet"])
    job = run(desk, desk.edit("harbor", Meta(title="Harbor notice", kind="fact-sheet",
                                             date="2026-12-01"), "bob"))
    assert job.status == "done", job.error
    c = desk.pipeline.ask(HARBOR_Q, kinds=["fact-sheet"]).citations[0]
    assert (c.doc_id, c.title, c.date) == ("harbor", "Harbor notice", "2026-12-01")
    assert desk.audit.entries()[-1]["editor"] == "bob"


def test_editing_a_shipped_document_survives_a_rebuild(desk, tmp_path: Path) -> None:
    shipped = desk.documents()[0]["doc_id"]
    add_text(desk, tmp_path)
    assert run(desk, desk.edit(shipped, Meta(title="Retitled"), "bob")).status == "done"
    report = desk.pipeline.ingest(rebuild=True, progress=False)
    assert report.rebuilt and not report.failed
    rows = {r["doc_id"]: r for r in desk.documents()}
    assert rows[shipped]["title"] == "Retitled"
    assert rows["harbor"]["origin"] == "upload"  # the desk's file is part of the rebuild
    assert "harbor" in cited(desk)


def test_remove_drops_the_document_from_answers_and_the_cache_at_once(desk, tmp_path: Path
                                                                       ) -> None:
    add_text(desk, tmp_path)
    assert "harbor" in cited(desk)
    assert desk.pipeline.ask(HARBOR_Q).cached  # the second ask came from the cache
    stored = desk.manifest.files / desk.manifest.get("harbor").file
    job = run(desk, desk.remove("harbor", "bob"))
    assert job.status == "done", job.error
    answer = desk.pipeline.ask(HARBOR_Q)
    assert not answer.cached and "harbor" not in [c.doc_id for c in answer.citations]
    assert not stored.exists() and desk.manifest.get("harbor") is None
    assert desk.audit.entries()[-1]["action"] == "remove"


def test_shipped_documents_cannot_be_removed_or_replaced_from_the_desk(desk) -> None:
    shipped = desk.documents()[0]["doc_id"]
    job = run(desk, desk.remove(shipped, "bob"))
    assert job.status == "failed" and "was not added on the desk" in job.error
    assert shipped in [r["doc_id"] for r in desk.documents()]
    assert run(desk, desk.remove("no-such-doc", "bob")).error == \
        "no indexed document has the id 'no-such-doc'"


def test_replace_switches_answers_to_the_new_version(desk, tmp_path: Path) -> None:
    add_text(desk, tmp_path)
    old_file = desk.manifest.get("harbor").file
    new = tmp_path / "v2.txt"
    new.write_text(HARBOR.replace("42", "57"), encoding="utf-8")
    job = run(desk, desk.replace("harbor", stage(desk, new), "bob"))
    assert job.status == "done", job.error
    [quote] = [c.quote for c in desk.pipeline.ask(HARBOR_Q).citations if c.doc_id == "harbor"][:1]
    assert "57" in quote and "42" not in quote
    assert not (desk.manifest.files / old_file).exists()
    assert desk.manifest.get("harbor").file != old_file


def test_a_pdf_upload_is_cited_with_its_page(desk, tmp_path: Path) -> None:
    path = pdf(tmp_path / "in" / "Dredging Plan.pdf",
               ["Dredging plan for the marina.", "The dredging of the north channel will cost "
                "3.4 million dollars and begin in March."])
    job = run(desk, desk.add_file(stage(desk, path), "alice"))
    assert job.status == "done", job.error
    assert "2 pages" in job.result
    [c] = [c for c in desk.pipeline.ask("How much will the dredging of the north channel "
                                        "cost?").citations if c.doc_id == "dredging-plan"][:1]
    assert c.page == 2


class _FailingEmbedder:
    def __init__(self, inner) -> None:  # type: ignore[no-untyped-def]
        self.inner, self.name, self.armed = inner, inner.name, False

    def embed(self, texts):  # type: ignore[no-untyped-def]
        if self.armed and len(texts) > 1:
            raise RuntimeError("embedding failed half-way")
        return self.inner.embed(texts)


def test_a_failed_job_leaves_the_previous_index_answering(desk, tmp_path: Path) -> None:
    add_text(desk, tmp_path)
    before_answer = desk.pipeline.ask(HARBOR_Q).to_dict()["citations"]
    before_docs, before_state = desk.documents(), desk.pipeline.store.state()
    failing = _FailingEmbedder(desk.ingestor.embedder)
    desk.ingestor.embedder = failing  # what the job embeds with (questions keep theirs)
    failing.armed = True
    new = tmp_path / "v2.txt"
    new.write_text(HARBOR.replace("42", "57") + "\nA second paragraph here.\n", encoding="utf-8")
    job = run(desk, desk.replace("harbor", stage(desk, new), "bob"))
    assert job.status == "failed" and "embedding failed half-way" in job.error
    assert desk.pipeline.store.state() == before_state  # nothing committed
    assert desk.documents() == before_docs
    assert desk.pipeline.ask(HARBOR_Q, use_cache=False).to_dict()["citations"] == before_answer
    assert not list(desk.manifest.pending_dir.glob("*.json"))
    assert sorted(p.name for p in desk.manifest.files.iterdir()) == \
        [desk.manifest.get("harbor").file]


def test_a_write_failing_before_its_commit_leaves_no_trace_in_answers(
        desk, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The chunks are written, the document record (the commit) fails: readers never
    see the new chunks."""
    from chromadb.api.models.Collection import Collection

    before = desk.pipeline.ask(HARBOR_Q, use_cache=False).to_dict()["citations"]
    real = Collection.upsert

    def upsert(self, *a, **k):  # type: ignore[no-untyped-def]
        if self.name.endswith("-docs"):
            raise RuntimeError("disk full")
        return real(self, *a, **k)
    monkeypatch.setattr(Collection, "upsert", upsert)
    job = add_text(desk, tmp_path)
    monkeypatch.undo()
    assert job.status == "failed" and "disk full" in job.error
    assert desk.pipeline.ask(HARBOR_Q, use_cache=False).to_dict()["citations"] == before
    assert "harbor" not in [r["doc_id"] for r in desk.documents()]
    assert desk.manifest.get("harbor") is None


KILL_SCRIPT = """
import sys, time
from pathlib import Path
from rag import Pipeline
from rag.desk.service import Desk
from tests.desk_support import desk_settings, stage
from tests.fakes import FakeEmbedder

class Stalling(FakeEmbedder):
    def embed(self, texts):
        if len(texts) > 1:  # a document being embedded, not a question
            Path(sys.argv[2]).write_text("embedding")
            time.sleep(600)
        return super().embed(texts)

settings = desk_settings(Path(sys.argv[1]))
pipeline = Pipeline(settings, embedder=Stalling(name=settings.embedding.model))
desk = Desk(pipeline.ingestor, inline=True)
desk.replace("harbor", stage(desk, Path(sys.argv[3])), "killed-editor")
"""


def test_a_job_killed_mid_embedding_leaves_the_previous_index(desk, tmp_path: Path) -> None:
    add_text(desk, tmp_path)
    before = desk.pipeline.ask(HARBOR_Q, use_cache=False).to_dict()["citations"]
    state, docs = desk.pipeline.store.state(), desk.documents()
    new, marker = tmp_path / "v2.txt", tmp_path / "marker"
    new.write_text(HARBOR.replace("42", "57"), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen([sys.executable, "-c", KILL_SCRIPT, str(tmp_path), str(marker),
                              str(new)], cwd=ROOT, env=env)
    deadline = time.monotonic() + 600
    while not marker.exists():
        assert child.poll() is None, "the job ended before embedding"
        assert time.monotonic() < deadline
        time.sleep(0.2)
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert desk.pipeline.store.state() == state
    assert desk.documents() == docs
    assert desk.pipeline.ask(HARBOR_Q, use_cache=False).to_dict()["citations"] == before
    assert len(list(desk.manifest.pending_dir.glob("*.json"))) == 1  # what the job left
    notes = desk.recover()
    assert any("was not committed; dropped" in n for n in notes)
    assert not list(desk.manifest.pending_dir.glob("*.json"))
    assert [p.name for p in desk.manifest.files.iterdir()] == [desk.manifest.get("harbor").file]
    assert desk.documents() == docs


def test_recover_records_a_job_killed_after_its_commit(desk, tmp_path: Path) -> None:
    add_text(desk, tmp_path)
    record = desk.manifest.drop("harbor")  # as if killed between the commit and the record
    desk.manifest.stage("job1", record)
    assert desk.recover() == ["job job1: harbor was committed; recorded"]
    assert desk.manifest.get("harbor") == record


def test_jobs_run_one_at_a_time_in_order() -> None:
    queue, events = JobQueue(), []

    def work(name: str):  # type: ignore[no-untyped-def]
        def run_it(job):  # type: ignore[no-untyped-def]
            events.append(("start", name))
            time.sleep(0.2)
            events.append(("end", name))
            return name
        return run_it
    jobs = [queue.submit(new_job("edit", str(i), "alice"), work(str(i))) for i in range(3)]
    assert [j.status for j in jobs][1:] == ["queued", "queued"]
    for job in jobs:
        assert queue.wait(job, 30)
    assert events == [(e, str(i)) for i in range(3) for e in ("start", "end")]
    assert [j["subject"] for j in queue.snapshot()] == ["2", "1", "0"]


@pytest.mark.parametrize(("name", "stem"), [
    ("../../etc/passwd.txt", "passwd"), ("..\\..\\Windows\\evil.md", "evil"),
    ("/abs/Report 2026 (final).pdf", "report-2026-final"), ("....txt", "txt"),
    ("<script>alert(1)</script>.html", "script"), ("...", "document"),
])
def test_client_file_names_never_become_paths(name: str, stem: str) -> None:
    assert safe_stem(name) == stem


def test_path_traversal_in_an_upload_name_stays_in_the_desk(desk, tmp_path: Path) -> None:
    src = tmp_path / "x.txt"
    src.write_text(HARBOR, encoding="utf-8")
    job = run(desk, desk.add_file(stage(desk, src, "../../../../tmp/evil.txt"), "mallory"))
    assert job.status == "done" and job.doc_id == "evil"
    stored = desk.manifest.files / desk.manifest.get("evil").file
    assert stored.parent == desk.manifest.files and stored.name.startswith("evil-")
    assert not Path("/tmp/evil.txt").exists()


def test_cli_adds_edits_and_removes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    from rag import Pipeline
    from cli.main import main

    from .fakes import FakeEmbedder

    desk = make_desk(tmp_path)
    monkeypatch.setenv("RAG_DATA_DIR", str(desk.pipeline.settings.data_dir))
    monkeypatch.setenv("RAG_CORPUS_DIR", str(desk.pipeline.settings.corpus_dir))

    def make(s):  # type: ignore[no-untyped-def]
        return Pipeline(s, embedder=FakeEmbedder(name=s.embedding.model))
    src = tmp_path / "Harbor.txt"
    src.write_text(HARBOR, encoding="utf-8")
    assert main(["sources", "add", str(src), "--title", "Harbor", "--editor", "carol"],
                make_pipeline=make) == 0
    assert "added as 'harbor'" in capsys.readouterr().out
    assert main(["sources", "add", str(src)], make_pipeline=make) == 1
    assert "not indexed twice" in capsys.readouterr().err
    assert main(["sources", "edit", "harbor", "--publisher", "Port"], make_pipeline=make) == 0
    assert main(["sources"], make_pipeline=make) == 0
    assert "Port" in capsys.readouterr().out
    assert main(["sources", "remove", "harbor"], make_pipeline=make) == 0
    assert "removed" in capsys.readouterr().out
    editors = [e["editor"] for e in desk.audit.entries()]
    assert editors[0] == "carol" and editors[-1].startswith("cli:")
    assert main(["sources", "token", "dana"], make_pipeline=make) == 0
    out = capsys.readouterr().out
    token, entry = out.splitlines()[1].strip(), out.splitlines()[-1].strip()
    from rag.desk.auth import Editors
    assert Editors([entry]).who(token) == "dana" and token not in entry
    json.dumps(desk.audit.entries())


def test_a_plain_token_in_the_settings_is_refused_without_being_echoed() -> None:
    from pydantic import ValidationError

    from rag import Settings

    with pytest.raises(ValidationError) as err:
        Settings(serve={"editor_tokens": ["alice:my-secret-token"]})  # type: ignore[arg-type]
    assert "label:sha256:HEX" in str(err.value) and "my-secret-token" not in str(err.value)


def test_the_chat_answers_from_the_previous_index_until_the_job_commits(desk, tmp_path: Path
                                                                        ) -> None:
    import threading

    add_text(desk, tmp_path)
    before = desk.pipeline.ask(HARBOR_Q, use_cache=False).to_dict()["citations"]
    inner, entered, release = desk.ingestor.embedder, threading.Event(), threading.Event()

    class Held:
        name = inner.name

        def embed(self, texts):  # type: ignore[no-untyped-def]
            if len(texts) > 1:  # the job's document, not a question
                entered.set()
                release.wait(60)
            return inner.embed(texts)
    desk.ingestor.embedder = Held()  # type: ignore[assignment]
    new = tmp_path / "v2.txt"
    new.write_text(HARBOR.replace("42", "57"), encoding="utf-8")
    job = desk.replace("harbor", stage(desk, new), "bob")
    assert entered.wait(120)
    assert job.status == "running" and job.stage == "embedding"
    assert desk.pipeline.ask(HARBOR_Q, use_cache=False).to_dict()["citations"] == before
    release.set()
    assert run(desk, job).status == "done"
    quotes = [c.quote for c in desk.pipeline.ask(HARBOR_Q).citations if c.doc_id == "harbor"]
    assert quotes and "57" in quotes[0]


def test_a_job_waits_for_one_running_in_another_process(desk, tmp_path: Path) -> None:
    """The desk lock is a file lock: a job of `rag sources` in another process holding
    it makes the app's job wait rather than interleave."""
    import fcntl

    lock = desk.pipeline.settings.desk_dir / "desk.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    with lock.open("a+") as other:  # another open file: as another process would hold it
        fcntl.flock(other, fcntl.LOCK_EX)
        src = tmp_path / "harbor.txt"
        src.write_text(HARBOR, encoding="utf-8")
        job = desk.add_file(stage(desk, src), "alice")
        time.sleep(1.0)
        assert job.status == "running" and job.stage == "queued"  # waiting for the lock
        fcntl.flock(other, fcntl.LOCK_UN)
    assert run(desk, job).status == "done"


def test_recover_clears_stale_staged_uploads_only(desk) -> None:
    old, fresh = desk.staging / "old", desk.staging / "fresh"
    for folder in (old, fresh):
        folder.mkdir(parents=True)
        (folder / "a.txt").write_text("x")
    os.utime(old, (time.time() - 7200, time.time() - 7200))
    desk.recover()
    assert not old.exists() and fresh.exists()  # a fresh one may be arriving elsewhere
