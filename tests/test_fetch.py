"""Fetching MNIST and the ASAP7 libraries: a real HTTP server on 127.0.0.1, real files, every failure."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import snnhw.fetch as fetch_module
from snnhw.fetch import Bundle, FetchError, PinnedFile, fetch, locate

SHARED = Path(__file__).resolve().parents[2] / "shared"
MNIST = SHARED / "data" / "mnist"
ASAP7 = SHARED / "pdk" / "asap7"
needs_shared = pytest.mark.skipif(not MNIST.is_dir() and not os.environ.get("CI"),
                                  reason="needs ../shared (or a network: `snnhw fetch mnist`)")


class _Server:
    """Serves a folder; records the paths asked for; /slow/… never answers; /short/… lies about its length."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.requests: list[str] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                outer.requests.append(self.path)
                if self.path.startswith("/slow/"):
                    time.sleep(3)
                    return
                path = outer.root / self.path.lstrip("/").removeprefix("short/")
                if not path.is_file():
                    self.send_error(404)
                    return
                body = path.read_bytes()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body) + (100 if self.path.startswith("/short/") else 0)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[_Server]:
    (tmp_path / "www").mkdir()
    s = _Server(tmp_path / "www")
    yield s
    s.close()


@pytest.fixture
def toy(monkeypatch: pytest.MonkeyPatch, server: _Server) -> Bundle:
    """A bundle of two small files the test makes (one served gzipped)."""
    a, b = b"alpha " * 1000, b"beta " * 777
    (server.root / "a.txt.gz").write_bytes(gzip.compress(a))
    (server.root / "b.txt").write_bytes(b)
    bundle = Bundle(key="toy", title="Toy", env_url="SNNHW_TOY_URL", env_dir="SNNHW_TOY_DIR", sources=(server.url,),
                    shared=("nowhere",), licence="test data",
                    files=(PinnedFile("x/a.txt", "a.txt.gz", hashlib.sha256(a).hexdigest(), len(a)),
                           PinnedFile("x/b.txt", "b.txt", hashlib.sha256(b).hexdigest(), len(b))))
    monkeypatch.setitem(fetch_module.BUNDLES, "toy", bundle)
    monkeypatch.delenv("SNNHW_TOY_URL", raising=False)
    return bundle


def test_a_good_download_is_decompressed_verified_and_kept(tmp_path: Path, toy: Bundle, server: _Server) -> None:
    folder = fetch("toy", tmp_path / "cache", progress=False)
    assert (folder / "x" / "a.txt").read_bytes() == b"alpha " * 1000
    assert (folder / "x" / "b.txt").read_bytes() == b"beta " * 777
    asked = len(server.requests)
    # a second fetch (and a resumed one, with one file gone) asks only for what is missing
    assert fetch("toy", tmp_path / "cache", progress=False) == folder and len(server.requests) == asked
    (folder / "x" / "b.txt").unlink()
    fetch("toy", tmp_path / "cache", progress=False)
    assert [p for p in server.requests[asked:] if "a.txt" in p] == []
    assert any("b.txt" in p for p in server.requests[asked:])
    assert not list((folder / "x").glob(".*part"))


def test_a_checksum_mismatch_is_refused_and_leaves_nothing(tmp_path: Path, toy: Bundle, server: _Server) -> None:
    (server.root / "b.txt").write_bytes(b"beta " * 776 + b"BETA ")
    with pytest.raises(FetchError, match=r"b.txt: Toy file x/b.txt could not be fetched: SHA-256 mismatch") as info:
        fetch("toy", tmp_path / "cache", progress=False)
    assert "snnhw fetch toy" in str(info.value) and "SNNHW_TOY_DIR" in str(info.value)
    assert not (tmp_path / "cache" / "x" / "b.txt").exists()
    assert not [p for p in (tmp_path / "cache").rglob("*") if p.is_file() and p.name != "a.txt"]


def test_a_truncated_transfer_is_refused(tmp_path: Path, toy: Bundle, server: _Server,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SNNHW_TOY_URL", server.url + "short/")
    with pytest.raises(FetchError, match=r"truncated transfer: \d+ of \d+ bytes"):
        fetch("toy", tmp_path / "cache", progress=False)
    assert not any(p.is_file() for p in (tmp_path / "cache").rglob("*"))


def test_a_server_that_does_not_answer_times_out(tmp_path: Path, toy: Bundle, server: _Server,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fetch_module, "TIMEOUT_S", 0.5)
    monkeypatch.setenv("SNNHW_TOY_URL", server.url + "slow/")
    start = time.monotonic()
    with pytest.raises(FetchError, match=r"no answer \(.*timed out"):
        fetch("toy", tmp_path / "cache", progress=False)
    assert time.monotonic() - start < 10


def test_a_second_mirror_is_tried(tmp_path: Path, toy: Bundle, server: _Server,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    dead = Bundle(**{**toy.__dict__, "sources": ("http://127.0.0.1:9/", server.url)})
    monkeypatch.setitem(fetch_module.BUNDLES, "toy", dead)
    assert (fetch("toy", tmp_path / "c", progress=False) / "x" / "b.txt").is_file()


def test_the_lookup_order(tmp_path: Path, toy: Bundle, server: _Server, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SNNHW_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("SNNHW_SHARED_DIR", "none")
    assert locate("toy", tmp_path / "explicit") == tmp_path / "explicit"  # 1. the option
    monkeypatch.setenv("SNNHW_TOY_DIR", str(tmp_path / "env"))
    assert locate("toy", None) == tmp_path / "env"  # 2. the variable
    monkeypatch.delenv("SNNHW_TOY_DIR")
    (tmp_path / "shared" / "nowhere").mkdir(parents=True)
    monkeypatch.setenv("SNNHW_SHARED_DIR", str(tmp_path / "shared"))
    assert locate("toy", None) == tmp_path / "shared" / "nowhere"  # 3. ../shared
    monkeypatch.setenv("SNNHW_SHARED_DIR", "none")
    assert server.requests == []
    assert locate("toy", None, progress=False) == tmp_path / "cache" / "toy"  # 5. fetched into the cache
    asked = len(server.requests)
    assert locate("toy", None, progress=False) == tmp_path / "cache" / "toy" and len(server.requests) == asked  # 4.


def _mnist_env(tmp_path: Path, server: _Server) -> dict[str, str]:
    for f in MNIST.iterdir():
        shutil.copy(f, server.root / f.name)
    env = {k: v for k, v in os.environ.items() if k not in ("SNNHW_MNIST_DIR",)}
    env.update(SNNHW_CACHE=str(tmp_path / "cache"), SNNHW_SHARED_DIR="none", SNNHW_MNIST_URL=server.url)
    return env


@needs_shared
def test_eval_fetches_mnist_on_first_use_then_uses_the_cache(tmp_path: Path, server: _Server) -> None:
    env = _mnist_env(tmp_path, server)
    cmd = [sys.executable, "-m", "snnhw", "eval", "mnist", "--dataset", "mnist", "--limit", "300"]
    first = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600)
    assert first.returncode == 0, first.stderr
    assert "accuracy" in first.stdout.lower()
    assert len([p for p in server.requests if p.endswith(".gz")]) == 4  # the four standard files
    assert (tmp_path / "cache" / "mnist" / "t10k-images-idx3-ubyte").stat().st_size == 7840016
    asked = len(server.requests)
    second = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600)
    assert second.returncode == 0 and second.stdout == first.stdout and len(server.requests) == asked


@needs_shared
def test_without_a_network_the_command_says_so_in_one_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("SNNHW_MNIST_DIR",)}
    env.update(SNNHW_CACHE=str(tmp_path / "cache"), SNNHW_SHARED_DIR="none", SNNHW_MNIST_URL="http://127.0.0.1:9/")
    result = subprocess.run([sys.executable, "-m", "snnhw", "eval", "mnist", "--dataset", "mnist"],
                            capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "snnhw fetch mnist" in result.stderr and "SNNHW_MNIST_DIR" in result.stderr
    fetched = subprocess.run([sys.executable, "-m", "snnhw", "fetch", "mnist"], capture_output=True, text=True,
                             env=env, cwd=tmp_path, timeout=120)
    assert fetched.returncode == 2 and "no answer" in fetched.stderr


@needs_shared
def test_fetch_command_and_the_asap7_flow_through_a_mirror(tmp_path: Path, server: _Server) -> None:
    """`snnhw fetch asap7` from a local mirror (SNNHW_ASAP7_URL), then an ASAP7 synthesis that finds the
    fetched libraries through the cache."""
    for sub in ("liberty", "fakeram", "platform"):
        for f in (ASAP7 / sub).rglob("*"):
            if f.is_file():
                shutil.copy(f, server.root / f.name)
    env = {k: v for k, v in os.environ.items() if k not in ("SNNHW_ASAP7_LIB", "SNNHW_ASAP7_FAKERAM")}
    env.update(SNNHW_CACHE=str(tmp_path / "cache"), SNNHW_SHARED_DIR="none", SNNHW_ASAP7_URL=server.url)
    got = subprocess.run([sys.executable, "-m", "snnhw", "fetch", "asap7"], capture_output=True, text=True, env=env,
                         cwd=tmp_path, timeout=600)
    assert got.returncode == 0, got.stderr
    assert "ASAP7: 41 files" in got.stdout and "BSD-3-Clause" in got.stdout
    assert (tmp_path / "cache" / "asap7" / "liberty" / "asap7sc7p5t_SEQ_RVT_FF_nldm_220123.lib").is_file()
    assert (tmp_path / "cache" / "asap7" / "platform" / "openRoad" / "pdn" / "grid_strategy-M1-M2-M5-M6.tcl").is_file()
    asked = len(server.requests)
    # the fixed design (--fixed): the flow is here to find the fetched libraries, and it is the smaller one
    synth = subprocess.run([sys.executable, "-m", "snnhw", "synth", "example", "--target", "asap7", "--fixed", "--out",
                            "run"], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=900)
    assert synth.returncode == 0, synth.stderr
    assert "measured:opensta" in synth.stdout and len(server.requests) == asked
    assert str(tmp_path / "cache" / "asap7" / "liberty") in (tmp_path / "run" / "sta.tcl").read_text()
