"""Hostile input on the sources desk, each refused with a message naming the file:
oversized, mislabelled, broken, encrypted and bomb uploads, scripts in HTML, and URL
fetches towards loopback, private or link-local addresses (SSRF), through redirects,
slow or oversized servers."""

from __future__ import annotations

import asyncio
import re
import time
import zlib
from pathlib import Path

import pytest

from rag.config import DeskSettings
from rag.desk.errors import UploadError
from rag.desk.reader import read_file
from rag.desk.uploads import receive, sniff
from rag.desk.urlguard import check_url, fetch, refusal, resolve
from rag.errors import LoadError

from .desk_support import HARBOR, pdf, reply, web_server


def test_an_oversized_upload_is_refused_before_it_is_read_whole(tmp_path: Path) -> None:
    consumed = 0

    async def body():  # type: ignore[no-untyped-def]
        nonlocal consumed
        for _ in range(200):  # 200 x 64 KiB = 12.5 MiB offered
            consumed += 1
            yield b"x" * 65536
    dest = tmp_path / "job" / "big.txt"
    with pytest.raises(UploadError, match=r"'big.txt' is over the 1 MB upload limit") as err:
        asyncio.run(receive(body(), dest, "big.txt", ".txt", 2**20))
    assert err.value.status == 413
    assert consumed == 17  # stopped at the first chunk past 1 MiB
    assert not dest.exists()


@pytest.mark.parametrize(("head", "suffix", "message"), [
    (b"\x89PNG\r\n\x1a\n", ".pdf", "the content is a PNG image, not a .pdf file"),
    (b"%PDF-1.7\n", ".txt", "the content is a PDF, not a .txt file"),
    (b"PK\x03\x04", ".md", "the content is a ZIP archive (Word, Excel…), not a .md file"),
    (b"\x7fELF\x02", ".html", "the content is a program, not a .html file"),
    (b"<html>not a pdf</html>", ".pdf", "not a PDF (no %PDF header)"),
    (b"abc\x00def", ".txt", "binary data, not .txt text"),
])
def test_content_that_does_not_match_its_extension_is_refused(head: bytes, suffix: str,
                                                              message: str) -> None:
    with pytest.raises(UploadError, match=re.escape(message)) as err:
        sniff(head, suffix, f"upload{suffix}")
    assert err.value.status == 415 and f"'upload{suffix}'" in str(err.value)


def test_broken_and_encrypted_pdfs_are_refused_naming_the_file(tmp_path: Path) -> None:
    from pypdf import PdfReader, PdfWriter

    good = pdf(tmp_path / "good.pdf", ["The harbor council approved 42 permits."])
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(good.read_bytes()[:300])
    with pytest.raises(LoadError, match=r"^Broken Report\.pdf: ") as err:
        read_file(broken, "Broken Report.pdf", DeskSettings())
    assert err.value.reason.startswith("not a readable PDF (")
    writer = PdfWriter()
    for page in PdfReader(good).pages:
        writer.add_page(page)
    writer.encrypt("secret")
    locked = tmp_path / "locked.pdf"
    with locked.open("wb") as fh:
        writer.write(fh)
    with pytest.raises(LoadError, match="locked.pdf: encrypted PDF; save an unencrypted copy"):
        read_file(locked, "locked.pdf", DeskSettings())


def test_a_pdf_with_too_many_pages_is_refused_before_extraction(tmp_path: Path) -> None:
    many = pdf(tmp_path / "many.pdf", ["page"] * 60)
    with pytest.raises(LoadError, match=r"many.pdf: 60 pages is over the limit of 50 "
                       r"\(RAG_SERVE__DESK__MAX_PAGES\)"):
        read_file(many, "many.pdf", DeskSettings(max_pages=50))


def _flate_bomb(path: Path, megabytes: int) -> Path:
    """A one-page PDF whose content stream inflates from ~0.3 MB to `megabytes` MB."""
    stream = zlib.compress(b"0 0 m " * (megabytes * 2**20 // 6), 9)
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
               b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream
               + b"\nendstream"]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    path.write_bytes(bytes(out))
    return path


def test_a_decompression_bomb_is_bounded_in_memory_and_time(tmp_path: Path) -> None:
    bomb = _flate_bomb(tmp_path / "bomb.pdf", 1024)  # 1 GiB of drawing operators
    assert bomb.stat().st_size < 5 * 2**20
    started = time.monotonic()
    with pytest.raises(LoadError, match=r"^bomb.pdf: not readable \(LimitReachedError"):
        read_file(bomb, "bomb.pdf", DeskSettings())  # pypdf's own inflate limit
    assert time.monotonic() - started < 60
    # Under pypdf's limits, the reading process's address-space limit stops it.
    smaller = _flate_bomb(tmp_path / "smaller.pdf", 60)
    with pytest.raises(LoadError, match=r"^smaller.pdf: reading it needed more memory than "
                       r"allowed \(RAG_SERVE__DESK__READ_MEMORY_MB\)"):
        read_file(smaller, "smaller.pdf", DeskSettings(read_memory_mb=160))
    assert time.monotonic() - started < 120


def test_a_slow_read_is_stopped_at_the_time_limit(tmp_path: Path) -> None:
    long = pdf(tmp_path / "long.pdf", ["Many words on many pages. " * 40] * 400)
    started = time.monotonic()
    with pytest.raises(LoadError, match=r"long.pdf: reading (took|used) over 1 s"):
        read_file(long, "long.pdf", DeskSettings(read_seconds=1))
    assert time.monotonic() - started < 30


def test_scripts_in_html_never_reach_the_stored_text(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text(
        "<html><head><title>Harbor <b>news</b></title><script>window.__xss = 1</script></head>"
        "<body><article><p>The harbor council approved 42 new mooring permits on Monday, "
        "after a long debate about the dredging budget and the marina.</p>"
        "<p onclick=\"window.__xss=2\">Commissioner Alvarez voted against the plan, saying "
        "the budget was too small.</p><script>document.write('pwned')</script>"
        "<img src=x onerror=\"window.__xss=3\"></article></body></html>", encoding="utf-8")
    doc = read_file(page, "page.html", DeskSettings())
    assert "42 new mooring permits" in doc.text
    assert "__xss" not in doc.text and "pwned" not in doc.text and "<" not in doc.text


# -- URLs ----------------------------------------------------------------------------

@pytest.mark.parametrize(("address", "why"), [
    ("127.0.0.1", "loopback"), ("::1", "loopback"), ("::ffff:127.0.0.1", "loopback"),
    ("10.1.2.3", "private"), ("192.168.0.10", "private"), ("172.16.5.4", "private"),
    ("fd00::1", "private"), ("169.254.169.254", "link-local"), ("fe80::1", "link-local"),
    ("::ffff:169.254.169.254", "link-local"), ("0.0.0.0", "unspecified"), ("::", "unspecified"),
    ("224.0.0.1", "multicast"), ("ff02::1", "multicast"), ("100.64.0.1", "not a public address"),
    ("240.0.0.1", "private"), ("93.184.216.34", None), ("2606:4700::1111", None),
])
def test_only_public_addresses_may_be_fetched(address: str, why: str | None) -> None:
    assert refusal(address) == why
    assert refusal(address, ["0.0.0.0/0", "::/0"]) in (None, "unspecified", "multicast")


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.org/a.pdf",
                                 "gopher://example.org/", "javascript:alert(1)", "//no-scheme",
                                 "http://user:pw@example.org/"])
def test_only_plain_http_and_https_urls(url: str) -> None:
    with pytest.raises(UploadError, match="only http|user name or password"):
        check_url(url, DeskSettings(), resolve)


def test_loopback_is_refused_by_default_and_every_resolved_address_is_checked() -> None:
    for url in ("http://127.0.0.1:9/a.txt", "http://localhost:9/", "http://[::1]:9/"):
        with pytest.raises(UploadError, match="loopback address") as err:
            check_url(url, DeskSettings(), resolve)
        assert err.value.status == 403
    # A name resolving to a public and a private address (a rebinding set-up) is refused.
    with pytest.raises(UploadError, match="10.0.0.5, a private address"):
        check_url("http://mixed.test/", DeskSettings(),
                  lambda host, port: ["93.184.216.34", "10.0.0.5"])


LOOPBACK = DeskSettings(fetch_allow=["127.0.0.1/32"], fetch_timeout=2, max_upload_mb=1)


def test_a_fetch_connects_to_the_checked_address(tmp_path: Path) -> None:
    """The name is resolved once; the connection goes to that address with the name
    as the Host header (a later lookup cannot send it elsewhere)."""
    seen = []

    def handler(h):  # type: ignore[no-untyped-def]
        seen.append(h.headers["Host"])
        reply(HARBOR.encode(), "text/plain; charset=utf-8")(h)
    with web_server({"/note": handler}) as base:
        port = base.rsplit(":", 1)[1]
        got = fetch(f"http://harbor.test:{port}/note", tmp_path / "dl", LOOPBACK,
                    lambda host, p: ["127.0.0.1"])
    assert got.suffix == ".txt" and got.path.read_text() == HARBOR
    assert seen == [f"harbor.test:{port}"]


def test_redirects_are_rechecked_at_every_hop(tmp_path: Path) -> None:
    with web_server({"/meta": reply(b"", status=302, headers={
                         "Location": "http://169.254.169.254/latest/meta-data/"}),
                     "/other": reply(b"", status=301, headers={"Location": "http://127.0.0.2:80/"}),
                     "/file": reply(b"", status=302, headers={"Location": "file:///etc/passwd"}),
                     "/loop": reply(b"", status=302, headers={"Location": "/loop"}),
                     "/ok": reply(b"", status=302, headers={"Location": "/final.md"}),
                     "/final.md": reply(b"# Notes\n\nFine.", "text/markdown")}) as base:
        with pytest.raises(UploadError, match="169.254.169.254, a link-local address"):
            fetch(base + "/meta", tmp_path / "a", LOOPBACK)
        with pytest.raises(UploadError, match="127.0.0.2, a loopback address"):
            fetch(base + "/other", tmp_path / "b", LOOPBACK)
        with pytest.raises(UploadError, match="only http"):
            fetch(base + "/file", tmp_path / "c", LOOPBACK)
        with pytest.raises(UploadError, match="more than 5 redirects"):
            fetch(base + "/loop", tmp_path / "d", LOOPBACK)
        got = fetch(base + "/ok", tmp_path / "e", LOOPBACK)
        assert got.url == base + "/final.md" and got.suffix == ".md"
        with pytest.raises(UploadError, match="loopback address"):  # without the allow-list
            fetch(base + "/ok", tmp_path / "f", DeskSettings())


def test_slow_oversized_and_foreign_responses_are_refused(tmp_path: Path) -> None:
    def slow(h):  # type: ignore[no-untyped-def]
        time.sleep(5)
        reply(b"late")(h)

    def endless(h):  # type: ignore[no-untyped-def]
        h.send_response(200)
        h.send_header("Content-Type", "text/plain")
        h.end_headers()  # no Content-Length: the size is counted as it arrives
        for _ in range(40):
            h.wfile.write(b"x" * 65536)
    with web_server({"/slow": slow, "/endless": endless,
                     "/big": reply(b"x" * (2 * 2**20)),
                     "/image": reply(b"\x89PNG....", "image/png")}) as base:
        started = time.monotonic()
        with pytest.raises(UploadError, match="the fetch failed .*timed out"):
            fetch(base + "/slow", tmp_path / "a", LOOPBACK)
        assert time.monotonic() - started < 5
        with pytest.raises(UploadError, match="over the 1 MB upload limit") as err:
            fetch(base + "/big", tmp_path / "b", LOOPBACK)
        assert err.value.status == 413
        with pytest.raises(UploadError, match="over the 1 MB upload limit"):
            fetch(base + "/endless", tmp_path / "c", LOOPBACK)
        with pytest.raises(UploadError, match="content type 'image/png' is not a PDF"):
            fetch(base + "/image", tmp_path / "d", LOOPBACK)
    assert not list(tmp_path.glob("*.*"))  # nothing partial is left


def test_a_url_is_added_as_a_job_with_its_source(tmp_path: Path) -> None:
    from .desk_support import HARBOR_Q, make_desk, run

    desk = make_desk(tmp_path, fetch_allow=["127.0.0.1/32"])
    with pytest.raises(UploadError, match="loopback"):
        make_desk(tmp_path / "other").add_url("http://127.0.0.1:9/x", "alice")
    page = ("<html><head><title>Harbor vote</title></head><body><article><p>The harbor "
            "council approved 42 new mooring permits on Monday.</p><p>Commissioner Alvarez "
            "voted against the plan.</p></article></body></html>").encode()
    with web_server({"/news/harbor-vote": reply(page, "text/html; charset=utf-8")}) as base:
        job = run(desk, desk.add_url(base + "/news/harbor-vote", "alice"))
    assert job.status == "done", job.error
    row = next(r for r in desk.documents() if r["doc_id"] == "harbor-vote")
    assert row["origin"] == "url" and row["url"] == base + "/news/harbor-vote"
    assert row["provenance"].startswith(f"fetched from {base}/news/harbor-vote by alice")
    assert "harbor-vote" in [c.doc_id for c in desk.pipeline.ask(HARBOR_Q).citations]
