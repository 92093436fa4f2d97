"""Error types of snnhw.

Every error that a user can cause with a bad file, a bad option or a bad input
array is one of these. They carry the offending file, the key, the rule and the
value, and print as a single line, so the command line can show them without a
traceback.
"""

from __future__ import annotations

from typing import Any

__all__ = ["BoardError", "BuildError", "CapacityError", "ImportRefused", "InputError", "NetworkError", "SnnhwError", "StreamError", "ToolError"]


def _show(value: Any) -> str:
    """Render an offending value for an error message, briefly."""
    if isinstance(value, str):
        text = repr(value)
    elif isinstance(value, bool) or value is None:
        text = "true" if value is True else "false" if value is False else "null"
    else:
        text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


class SnnhwError(Exception):
    """Base class of every error that snnhw reports to users.

    Parameters
    ----------
    rule:
        What was expected, for example ``"must be 1 … 2047 for potential_bits 12"``.
    key:
        Dotted key of the offending item (``"layers.1.threshold"``), if any.
    source:
        The file the item came from, if any.
    value:
        The offending value; shown after ``got`` when given.
    """

    _MISSING = object()

    def __init__(
        self,
        rule: str,
        *,
        key: str | None = None,
        source: str | None = None,
        value: Any = _MISSING,
    ) -> None:
        self.rule = rule
        self.key = key
        self.source = source
        self.value = value
        super().__init__(self._format())

    def _format(self) -> str:
        parts = []
        if self.source:
            parts.append(f"{self.source}: ")
        if self.key:
            parts.append(f"{self.key}: ")
        parts.append(self.rule)
        if self.value is not SnnhwError._MISSING:
            parts.append(f", got {_show(self.value)}")
        return "".join(parts)

    def within(self, prefix: str | None = None, source: str | None = None) -> SnnhwError:
        """Return a copy with ``prefix`` put in front of the key and ``source`` set."""
        key = self.key
        if prefix:
            key = f"{prefix}.{key}" if key else prefix
        return type(self)(
            self.rule, key=key, source=source or self.source, value=self.value
        )

    def __str__(self) -> str:
        return self._format()


class NetworkError(SnnhwError, ValueError):
    """A network file or a network object breaks a rule of ``snnhw.network/1``."""


class InputError(SnnhwError, ValueError):
    """An input array (``INPUTS.npy``) or a command-line value is not acceptable."""


class ImportRefused(SnnhwError, ValueError):
    """A model from another framework (a NIR graph) cannot be represented as an snnhw network."""


class StreamError(SnnhwError, ValueError):
    """A differential-time token stream breaks the stream format."""


class BuildError(SnnhwError, ValueError):
    """A build configuration cannot be realised (it never refuses a valid network)."""


class CapacityError(SnnhwError, ValueError):
    """A network does not fit a loadable design: the message names the first limit it exceeds."""


class ToolError(SnnhwError, RuntimeError):
    """An external tool (Yosys, nextpnr, OpenSTA, OpenROAD) is missing, failed, or refused the design."""


class BoardError(SnnhwError, RuntimeError):
    """A board did not answer, answered for another network, or could not be built or programmed."""
