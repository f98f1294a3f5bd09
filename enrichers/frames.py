"""Frame names as one runtime writes them: how to show them and which code they belong to. Pure.

Each preset (`enrichers.presets`) builds one `FrameRules` from its runtime's conventions:

* `normalize`: the name as it is shown, or None to keep it as the runtime wrote it. Only
  the JVM (JFR writes `com/example/Foo.bar`) and Go (type arguments of generics) need one;
  Python `file.py:line - func`, Node `file:line:col` and .NET `Assembly!Type.Method(args)`
  stay exactly as written.
* `is_runtime`: the language runtime, its standard library and native code;
* `is_library`: third-party code recognisable by its name (`site-packages/`, `node_modules/`,
  `/gems/`); everything else that is neither is the application's or a library's;
* `is_main`: application code whatever `app_prefixes` say (Go's main module);
* `app_key`: the part of a name that `app_prefixes` are compared with (.NET: after `!`).

`classify()` applies them in this order: an `app_prefixes` match or `is_main` is `app`, then
`is_runtime`, then `is_library`; the rest is `library` when `app_prefixes` are set (they tell
application code apart) and `app` when they are not (nothing can tell it from library code).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from enrichers.result import FrameClass

__all__ = ["PLAIN", "FrameRules", "is_binary", "is_native"]

# [unknown], [vdso]; libc.so.6.*, libjvm.so.*; kernel frames (`_[k]`, async-profiler).
_BINARY = re.compile(r"^(?:\[.*\]|(?:lib|ld-)[\w+.-]*?\.so\b)|\.so(?:\.\d+)*$|_\[k\]$")
_PATH = re.compile(r"^[./]")  # ./tmp/x.so, .itable stub: in a compiled runtime, native code


def is_binary(name: str) -> bool:
    """Pseudo frames, shared objects and kernel frames: native code in any runtime."""
    return _BINARY.search(name) is not None


def is_native(name: str) -> bool:
    """`is_binary`, and for compiled runtimes (whose frames are symbols, not files) any name
    that is a path or a stub."""
    return is_binary(name) or _PATH.search(name) is not None


def _never(name: str) -> bool:
    return False


def _same(name: str) -> str:
    return name


@dataclass(frozen=True)
class FrameRules:
    normalize: Callable[[str], str] | None = None
    is_runtime: Callable[[str], bool] = is_binary
    is_library: Callable[[str], bool] = _never
    is_main: Callable[[str], bool] = _never
    app_key: Callable[[str], str] = _same

    def show(self, name: str) -> str:
        """`name` as the runtime's users read it."""
        return self.normalize(name) if self.normalize is not None else name

    def classify(self, name: str, app_prefixes: Sequence[str]) -> FrameClass:
        """`app`, `runtime` or `library` for a shown name (see the module docstring)."""
        key = self.app_key(name)
        if any(key.startswith(self.show(p)) for p in app_prefixes if p) or self.is_main(name):
            return "app"
        if self.is_runtime(name):
            return "runtime"
        if self.is_library(name) or any(app_prefixes):
            return "library"
        return "app"


# Names kept as written, binary frames are runtime code: a runtime without rules of its own.
PLAIN = FrameRules()
