"""Frame names: JFR normalisation and the app / runtime / library classification, pure."""

from __future__ import annotations

import re
from collections.abc import Sequence

from enrichers.result import FrameClass

__all__ = ["frame_class", "normalize_frame", "strip_go_type_parameters"]

_JFR_SEPARATOR = re.compile(r"/(?!0x)")  # keeps hidden-class suffixes: Foo$$Lambda$1/0x0800
# [unknown], [vdso]; libc.so.6.*, libjvm.so.*; paths and stubs (./tmp/x.so, .itable stub);
# kernel frames (`_[k]`, async-profiler).
_NATIVE = re.compile(r"^(?:\[.*\]|[./]|(?:lib|ld-)[\w+.-]*?\.so\b)|\.so(?:\.\d+)*$|_\[k\]$")
_JVM_RUNTIME = ("java.", "javax.", "jdk.", "sun.", "com.sun.", "kotlin.", "scala.")
_JVM = frozenset({"jvm", "java"})


def normalize_frame(name: str) -> str:
    """JFR's `/` package separators as `.`: `java/util/HashMap.get` -> `java.util.HashMap.get`.

    Only for JVM frames: Go package paths (`compress/flate.NewWriter`) keep their slashes.
    Hidden-class suffixes (`Foo$$Lambda$1/0x0800`) and native paths (`./tmp/x.so`) are kept.
    """
    if name.startswith(("/", ".")):  # a native library path or a stub, not a class
        return name
    return _JFR_SEPARATOR.sub(".", name)


def strip_go_type_parameters(name: str) -> str:
    """A Go generic name as Pyroscope shows it, without its type arguments:
    `pkg.(*Client[go.shape.struct { ... }]).CallUnary` -> `pkg.(*Client).CallUnary`.

    Every bracketed group after the first character is dropped, nested brackets included
    (`[]uint8` inside a shape); a name that starts with `[` is a pseudo frame (`[unknown]`).
    """
    if "[" not in name[1:]:
        return name
    kept: list[str] = []
    depth = 0
    for index, char in enumerate(name):
        if char == "[" and (depth or index):
            depth += 1
        elif char == "]" and depth:
            depth -= 1
        elif not depth:
            kept.append(char)
    return "".join(kept)


def _is_runtime(name: str, runtime: str) -> bool:
    if _NATIVE.search(name):
        return True
    if runtime in _JVM:
        java = normalize_frame(name)
        # No package dot (AGCT, JVM, start_thread) or C++ `::`: HotSpot and native code.
        return java.startswith(_JVM_RUNTIME) or "." not in java or "::" in java
    if runtime == "go":
        if "/" in name:  # the Go rule: a standard-library path has no dot in its first element
            return "." not in name.split("/", 1)[0]
        return name.split(".", 1)[0] != "main"
    return False


def frame_class(name: str, runtime: str, app_prefixes: Sequence[str]) -> FrameClass:
    """Classify a frame as `app`, `runtime` or `library`.

    * `app`: the name starts with one of `app_prefixes` (JVM names compare in `.` form);
      for Go, package `main` is always app code.
    * `runtime`: the language runtime, its standard library and native code. JVM (`jvm`):
      java., javax., jdk. (incl. jdk.internal.), sun., com.sun., kotlin., scala., frames
      without a package (AGCT, JVM, C functions), C++ frames (`::`). Go (`go`): every
      standard-library package, i.e. a path whose first element has no dot (runtime.,
      sync., internal/..., net/http., compress/flate.), unlike `github.com/...`. Any runtime:
      `[unknown]`-style pseudo frames, shared objects (libc.so.6.*, libjvm.so.*), kernel.
    * `library`: everything else. With no `app_prefixes`, library code cannot be told from
      application code, so every non-runtime frame is `app`.
    """
    java = runtime in _JVM
    key = normalize_frame(name) if java else name
    prefixes = [normalize_frame(p) for p in app_prefixes] if java else list(app_prefixes)
    if any(key.startswith(prefix) for prefix in prefixes if prefix):
        return "app"
    if runtime == "go" and "/" not in name and name.split(".", 1)[0] == "main":
        return "app"
    if _is_runtime(name, runtime):
        return "runtime"
    return "library" if any(app_prefixes) else "app"
