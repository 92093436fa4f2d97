"""Fetch MNIST and the ASAP7 libraries on first use: checked, cached, written atomically.

Every file is pinned by the SHA-256 of its *decompressed* contents. A file is
downloaded (from the first source that answers), decompressed when it arrives
gzipped, verified, and only then renamed into the cache; a truncated transfer
or a mismatch is refused in one line and leaves nothing behind. Files already
in the cache with the right digest are not fetched again.

Where the data come from, in this order (:func:`locate`):

1. the explicit option (``--data``, ``--pdk``);
2. the environment variable (``SNNHW_MNIST_DIR``, ``SNNHW_ASAP7_LIB``);
3. ``../shared`` beside the checkout or the working directory
   (``SNNHW_SHARED_DIR`` names another folder; ``none`` skips this step);
4. the cache (``$SNNHW_CACHE``, else the platform's user cache directory);
5. a fetch into the cache (sources: ``SNNHW_MNIST_URL`` / ``SNNHW_ASAP7_URL``,
   else the public mirrors below).
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import logging
import os
import sys
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from snnhw._io import atomic_write_bytes
from snnhw.errors import SnnhwError

__all__ = ["BUNDLES", "Bundle", "FetchError", "PinnedFile", "cache_dir", "fetch", "find_local", "locate", "shared_dir"]

log = logging.getLogger(__name__)

#: Seconds to wait for a server before giving up on it.
TIMEOUT_S = 20.0


class FetchError(SnnhwError, OSError):
    """Data could not be fetched or did not verify."""


@dataclass(frozen=True)
class PinnedFile:
    """One file of a bundle: where it goes in the bundle's folder, its upstream path, its digest and size."""

    name: str
    remote: str
    sha256: str
    size: int


@dataclass(frozen=True)
class Bundle:
    """A set of files fetched together."""

    key: str
    title: str
    env_url: str
    env_dir: str
    sources: tuple[str, ...]
    shared: tuple[str, ...]
    files: tuple[PinnedFile, ...]
    licence: str


_ORFS = "https://raw.githubusercontent.com/The-OpenROAD-Project/OpenROAD-flow-scripts/master/flow/platforms/asap7/"


def _libs() -> tuple[PinnedFile, ...]:
    cells = [
        ("asap7sc7p5t_AO_RVT_FF_nldm_211120.lib", "e6a397c74d65b9e4f30128663e588bcf1192f680c3e86d01da34a328041d85b3", 22101389),
        ("asap7sc7p5t_AO_RVT_TT_nldm_211120.lib", "b1ece108c0a2acd8d01c05cee6daee2834425037b1d9aad625d6f1dd640f1940", 22136706),
        ("asap7sc7p5t_INVBUF_RVT_FF_nldm_220122.lib", "806848fed619856aa96f4965a2e6cc3d5a3b9bb39494bbdad5abd0cc6219ea26", 306563),
        ("asap7sc7p5t_INVBUF_RVT_TT_nldm_220122.lib", "a4ceb32e418e1aac8667e28fbd8e9e46baf520180be4db075598a4d7c681a56e", 309886),
        ("asap7sc7p5t_OA_RVT_FF_nldm_211120.lib", "13b59dfb321f154bc36f1b95b3942907176b01a0a951cac34a9dcd9c30a91a60", 19878242),
        ("asap7sc7p5t_OA_RVT_TT_nldm_211120.lib", "6529c6c72465cd133dfbfb03952327ab2774bb6aa4be866d78fd7bc6c58c9f6f", 19915253),
        ("asap7sc7p5t_SEQ_RVT_FF_nldm_220123.lib", "d9b6e75c8720cdd450cff15178528502cc8df34c5ab6b0ffb53fc99d664b5302", 1510915),
        ("asap7sc7p5t_SEQ_RVT_TT_nldm_220123.lib", "57a0b403485b99ebd676942af4673ac086b86c7c75fbdc3e5c0038501dd22ba3", 1512690),
        ("asap7sc7p5t_SIMPLE_RVT_FF_nldm_211120.lib", "d08b04a698b5823b90b7c50904d5fe65d60a97a9d9f7729afd22188eab6f9b06", 2305455),
        ("asap7sc7p5t_SIMPLE_RVT_TT_nldm_211120.lib", "fa92e6ab1481810602811b1eea54bc016a341f11fb5188d7512c026599adf038", 2306883),
        # the slow corner, for the post-route sign-off of `snnhw synth --layout`
        ("asap7sc7p5t_AO_RVT_SS_nldm_211120.lib", "55584f8ac4910eefdbaf0183b021681cd87b3b9d62a62d6f802a601e79002df9", 22195817),
        ("asap7sc7p5t_INVBUF_RVT_SS_nldm_220122.lib", "971247fdbb98c969300444c440ce5a5f3bc64a17c402e2025cf09c87908e97c0", 309062),
        ("asap7sc7p5t_OA_RVT_SS_nldm_211120.lib", "bf962aaa931b8bfeb8133719db6f6da0dde86fb373dd03629bf492f33f75c649", 19972256),
        ("asap7sc7p5t_SEQ_RVT_SS_nldm_220123.lib", "c6a6d9ad22bfb1bc9cf1c4ac66d09ce575ca18648ce4e50597d92174bc290d78", 1513373),
        ("asap7sc7p5t_SIMPLE_RVT_SS_nldm_211120.lib", "29f2d9c5153299a3907df523633bb84fda8f291d90b3b0058d22ed5d67e719ee", 2306707),
    ]
    rams = [
        ("fakeram7_128x64.lef", "c0eb0741b9e8587012fda3218d41489082556ae1766d6077da05bf05448d6abe", 25728),
        ("fakeram7_128x64.lib", "32afa304b1ba298c3efbd2eee8ad1ca9f5191a899450314de9cdb826635188ef", 12277),
        ("fakeram7_2048x39.lef", "d839554a2d5645a35340ecb0ee6654dd42e859af562de8fad89bf599a6f11727", 33740),
        ("fakeram7_2048x39.lib", "52949dfb0540ee5b566cc76aff644f14c41721af5c1c23fe662f02e0ee57ff27", 12341),
        ("fakeram7_256x256.lef", "211ca160caf1ee713df0398e8612f7bf3c4e3fbfda0f270b7a8b5537150e5415", 96972),
        ("fakeram7_256x256.lib", "2f4fe804148f3f0ee75b8112a7050f89d456ab22abeff6446abea894f760da06", 12325),
        ("fakeram7_256x32.lef", "3f4443f6fe38d0a391f48f13c77d53d0b593123bd7c80e958a3b5ba5f111cd14", 17378),
        ("fakeram7_256x32.lib", "d7c36e84a574b596fffd293ed47f143ade51bb6af3d47f2d0a68d064b9223d2b", 12293),
        ("fakeram7_256x34.lef", "e4ed4a3a269ebf45f64a2f2e26616c1139ee96c1de5a46a4154d962ed39713af", 18044),
        ("fakeram7_256x34.lib", "c6997f35a31bacc7d03365ce7cf57b1db83613afdf5d69ad97dea6a4e8ec78a9", 12293),
        ("fakeram7_64x21.lef", "b7cf6581f2a0570c1479475289f68f5396db500ba3595598544f83fc5891940f", 10160),
        ("fakeram7_64x21.lib", "eaa85e77fae47c4f58645b821dfe059743b91afd248d2b48631c674e59d155c8", 12248),
        ("fakeram7_64x25.lef", "bab23ea1418064aa1c30a83dde214f0ee5d1cd6d7a1e5e867ea5bc2f83d15d27", 11000),
        ("fakeram7_64x25.lib", "df53838484f394e7e4a2d372d8c9bece17ca38bf6e4ef79d254c3cfbccf35327", 12232),
        ("fakeram7_64x256.lef", "4bf9c3c42db578f3c2477d962b0684378d929f3795ef026adf10ec3f9496e11a", 92478),
        ("fakeram7_64x256.lib", "68e34a7ca31a9f3b81f9950365f172c42e10e58508e9c6514c488bd22eedf20f", 12281),
        ("fakeram7_64x28.lef", "0b55a3fffbdc290227731ee1f3757cec160fdeb993d978720842a682da322c66", 11987),
        ("fakeram7_64x28.lib", "1cc34f47ea4c63af153ffaeb3c3be81efd7c722d14fac21a130aa741765e0052", 12232),
    ]
    # place and route (`snnhw synth --layout`): local name under platform/, upstream path under the platform
    platform = [
        ("asap7_tech_1x_201209.lef", "lef/asap7_tech_1x_201209.lef",
         "7694bf4f8ef2f9745e4579f454788a0cf048e8605320f32d1d83ec540ed4ca41", 20141),
        ("asap7sc7p5t_28_R_1x_220121a.lef", "lef/asap7sc7p5t_28_R_1x_220121a.lef",
         "4eb73f825720d95eba4da455c7b2e7a28e444e88e9d8595d13492cf5eecfc0d1", 391403),
        ("openRoad/make_tracks.tcl", "openRoad/make_tracks.tcl",
         "4693c8fc81cf9095ed7fba61e778ec81c16c3cadc747f9ce388acf38f8331632", 1235),
        ("openRoad/tapcell.tcl", "openRoad/tapcell.tcl",
         "582c43c5d1ceee9ede9b71afc15fb4d98cf98a4a335d3c06b0123033520ddf2e", 578),
        ("openRoad/pdn/grid_strategy-M1-M2-M5-M6.tcl", "openRoad/pdn/grid_strategy-M1-M2-M5-M6.tcl",
         "7eb4c880be9357ed33c352ff84c2870b9c02312db96cdf7b0a5214fb39d0a844", 2006),
        ("setRC.tcl", "setRC.tcl", "ce6e29fe23b648839009c53035901066653d5850f9419ba85169c715b2cebd14", 1159),
        ("fastroute.tcl", "fastroute.tcl", "0513fb0efd632b4bc3c16882b09d64ce227e48f4bc71486f4d05aec62fe7b0e1", 290),
        ("rcx_patterns.rules", "rcx_patterns.rules",
         "32a117e5e866d3de1406e8f18d65b6f1857781f156638941a4769e25ef5252cc", 117122),
    ]
    out = [PinnedFile(f"liberty/{name}", f"lib/NLDM/{name}", digest, size) for name, digest, size in cells]
    out += [PinnedFile(f"platform/{name}", remote, digest, size) for name, remote, digest, size in platform]
    out += [PinnedFile(f"fakeram/{name}", f"{'lef' if name.endswith('.lef') else 'lib/NLDM'}/{name}", digest, size)
            for name, digest, size in rams]
    return tuple(out)


#: The bundles ``snnhw fetch`` knows.
BUNDLES: dict[str, Bundle] = {
    "mnist": Bundle(
        key="mnist", title="MNIST", env_url="SNNHW_MNIST_URL", env_dir="SNNHW_MNIST_DIR",
        sources=("https://ossci-datasets.s3.amazonaws.com/mnist/", "https://storage.googleapis.com/cvdf-datasets/mnist/"),
        shared=("data", "mnist"),
        files=(
            PinnedFile("train-images-idx3-ubyte", "train-images-idx3-ubyte.gz",
                       "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db", 47040016),
            PinnedFile("train-labels-idx1-ubyte", "train-labels-idx1-ubyte.gz",
                       "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5", 60008),
            PinnedFile("t10k-images-idx3-ubyte", "t10k-images-idx3-ubyte.gz",
                       "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7", 7840016),
            PinnedFile("t10k-labels-idx1-ubyte", "t10k-labels-idx1-ubyte.gz",
                       "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2", 10008),
        ),
        licence="MNIST: Y. LeCun, C. Cortes and C. J. C. Burges; CC BY-SA 3.0 (as distributed by the mirrors)",
    ),
    "asap7": Bundle(
        key="asap7", title="ASAP7", env_url="SNNHW_ASAP7_URL", env_dir="SNNHW_ASAP7_LIB",
        sources=(_ORFS,), shared=("pdk", "asap7"), files=_libs(),
        licence="ASAP7 PDK standard cells (Arizona State University and ARM) and fakeram7 models "
                "(OpenROAD-flow-scripts): BSD-3-Clause",
    ),
}


def cache_dir() -> Path:
    """``$SNNHW_CACHE``, else the platform's user cache directory for snnhw."""
    env = os.environ.get("SNNHW_CACHE")
    if env:
        return Path(env)
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "snnhw"
    if os.name == "nt":
        return Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local")) / "snnhw" / "Cache"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "snnhw"


def shared_dir(*parts: str) -> Path | None:
    """``../shared/<parts>`` beside the working directory (or a parent) or the checkout; ``SNNHW_SHARED_DIR``
    names the shared folder itself (``none`` disables the search)."""
    env = os.environ.get("SNNHW_SHARED_DIR")
    if env is not None:
        if env.lower() in ("", "none"):
            return None
        candidate = Path(env).joinpath(*parts)
        return candidate if candidate.is_dir() else None
    here = Path.cwd().resolve()
    checkout = Path(__file__).resolve().parents[1]
    for base in (here, *here.parents, checkout):
        candidate = base.parent.joinpath("shared", *parts)
        if candidate.is_dir():
            return candidate
    return None


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _complete(bundle: Bundle, folder: Path, verify: bool = True) -> list[PinnedFile]:
    """The files of ``bundle`` that ``folder`` lacks (or holds with the wrong digest)."""
    missing = []
    for f in bundle.files:
        path = folder / f.name
        if not path.is_file() or path.stat().st_size != f.size or (verify and _digest(path) != f.sha256):
            missing.append(f)
    return missing


def _candidates(bundle: Bundle, f: PinnedFile) -> list[str]:
    override = os.environ.get(bundle.env_url)
    if override:
        base = override if override.endswith("/") else override + "/"
        name = f.remote.rsplit("/", 1)[-1]
        stem = name[:-3] if name.endswith(".gz") else name
        return [base + stem + ".gz", base + stem]
    out = []
    for base in bundle.sources:
        out += [base + f.remote] if f.remote.endswith(".gz") else [base + f.remote + ".gz", base + f.remote]
    return out


def _download(url: str, expect: PinnedFile, progress: Callable[[int], None] | None) -> bytes:
    """The decompressed contents at ``url``, verified; raises FetchError."""
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:
            length = response.headers.get("Content-Length")
            chunks, got = [], 0
            while True:
                block = response.read(1 << 16)
                if not block:
                    break
                chunks.append(block)
                got += len(block)
                if progress is not None:
                    progress(len(block))
    except urllib.error.HTTPError as err:
        err.close()
        raise FetchError(f"HTTP {err.code} {err.reason}", source=url) from None
    except http.client.IncompleteRead as err:
        raise FetchError(f"truncated transfer: {len(err.partial)} bytes, then the connection ended",
                         source=url) from None
    except http.client.HTTPException as err:
        raise FetchError(f"bad HTTP response ({type(err).__name__})", source=url) from None
    except (urllib.error.URLError, TimeoutError, OSError) as err:
        reason = getattr(err, "reason", err)
        raise FetchError(f"no answer ({reason})", source=url) from None
    raw = b"".join(chunks)
    if length is not None and got != int(length):
        raise FetchError(f"truncated transfer: {got} of {length} bytes", source=url)
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as err:
            raise FetchError(f"truncated or corrupt gzip data ({err})", source=url) from None
    digest = hashlib.sha256(raw).hexdigest()
    if digest != expect.sha256:
        raise FetchError(f"SHA-256 mismatch: got {digest[:16]}…, expected {expect.sha256[:16]}… "
                         f"({len(raw)} bytes, expected {expect.size})", source=url)
    return raw


def fetch(key: str, directory: str | os.PathLike[str] | None = None, *, progress: bool = True) -> Path:
    """Make sure bundle ``key`` is complete in ``directory`` (default: the cache); return the folder.

    Files already there with the right digest are kept; the others are downloaded
    from the first source that answers, verified and renamed into place.

    Raises
    ------
    FetchError
        When a file cannot be fetched from any source or does not verify; the
        message names the last source, the reason, ``snnhw fetch`` and the variable
        that points at a local copy.
    """
    bundle = BUNDLES[key]
    folder = Path(directory) if directory is not None else cache_dir() / key
    missing = _complete(bundle, folder)
    if not missing:
        return folder
    total = sum(f.size for f in missing)
    log.info("fetching %d %s files (%.1f MB) into %s", len(missing), bundle.title, total / 1e6, folder)
    bar = None
    if progress and sys.stderr.isatty():
        from tqdm import tqdm

        bar = tqdm(total=None, unit="B", unit_scale=True, desc=f"fetch {key}", leave=False)
    try:
        for f in missing:
            errors = []
            for url in _candidates(bundle, f):
                try:
                    data = _download(url, f, bar.update if bar is not None else None)
                except FetchError as err:
                    errors.append(err)
                    continue
                (folder / f.name).parent.mkdir(parents=True, exist_ok=True)
                atomic_write_bytes(folder / f.name, data)
                break
            else:  # report the most telling failure: anything but a missing file, else the last one
                last = next((e for e in errors if not e.rule.startswith("HTTP 404")), errors[-1])
                raise FetchError(f"{bundle.title} file {f.name} could not be fetched: {last.rule}; run "
                                 f"`snnhw fetch {key}` where a network is available, or set {bundle.env_dir} "
                                 f"(or {bundle.env_url}) to a local copy", source=last.source)
    finally:
        if bar is not None:
            bar.close()
    return folder


def find_local(key: str, *, subdir: str = "") -> Path | None:
    """Steps 2–4 of the lookup without a fetch: the variable, ``../shared`` or a complete cache; else ``None``."""
    bundle = BUNDLES[key]
    env = os.environ.get(bundle.env_dir)
    if env:
        return Path(env) if Path(env).is_dir() else None
    shared = shared_dir(*bundle.shared)
    if shared is not None and (shared / subdir).is_dir():
        return shared / subdir
    cached = cache_dir() / key
    return cached / subdir if not _complete(bundle, cached, verify=False) else None


def locate(key: str, explicit: str | os.PathLike[str] | None = None, *, subdir: str = "",
           progress: bool = True) -> Path:
    """The folder of bundle ``key`` by the lookup order of this module (``subdir`` within it)."""
    bundle = BUNDLES[key]
    if explicit is not None:
        return Path(explicit)
    env = os.environ.get(bundle.env_dir)
    if env:
        return Path(env)
    shared = shared_dir(*bundle.shared)
    if shared is not None and (shared / subdir).is_dir():
        return shared / subdir
    return fetch(key, progress=progress) / subdir
