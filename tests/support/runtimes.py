"""Frames as each runtime writes them, for tests that run every preset.

For each runtime: a stack root first (a runtime entry frame, an application function, a
runtime or library leaf where the time goes) as its agent stores it, and how flamebot shows
the application frame and the leaf (JFR `/` as `.`, Go type arguments dropped, the rest as
written).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["FRAMES", "RuntimeFrames"]


@dataclass(frozen=True)
class RuntimeFrames:
    entry: str  # runtime code at the root
    app: str  # the application function, as written
    leaf: str  # runtime or library code it calls, where the time goes
    shown_app: str
    shown_leaf: str

    def stack(self, *more: str) -> tuple[str, ...]:
        return (self.entry, self.app, *more)


FRAMES = {
    "jvm": RuntimeFrames(
        "java/lang/Thread.run",
        "com/example/Cart.checkout",
        "java/util/HashMap.resize",
        "com.example.Cart.checkout",
        "java.util.HashMap.resize",
    ),
    "go": RuntimeFrames(
        "runtime.goexit",
        "rideshare/cart.(*Cart[go.shape.int]).Checkout",
        "runtime.mallocgc",
        "rideshare/cart.(*Cart).Checkout",
        "runtime.mallocgc",
    ),
    "python": RuntimeFrames(
        "threading.py:1016 - _bootstrap_inner",
        "lib/cart/cart.py:42 - checkout",
        "json/encoder.py:199 - encode",
        "lib/cart/cart.py:42 - checkout",
        "json/encoder.py:199 - encode",
    ),
    "ruby": RuntimeFrames(
        "<internal:kernel>:187 - loop",
        "app/models/cart.rb:42 - checkout",
        "/usr/local/lib/ruby/3.2.0/json/common.rb:216 - generate",
        "app/models/cart.rb:42 - checkout",
        "/usr/local/lib/ruby/3.2.0/json/common.rb:216 - generate",
    ),
    "dotnet": RuntimeFrames(
        "System.Private.CoreLib!System.Threading.ThreadPoolWorkQueue.Dispatch()",
        "Shop!Shop.Cart.Checkout(int32)",
        "System.Private.CoreLib!System.Collections.Generic.Dictionary`2.Resize(int32,bool)",
        "Shop!Shop.Cart.Checkout(int32)",
        "System.Private.CoreLib!System.Collections.Generic.Dictionary`2.Resize(int32,bool)",
    ),
    "nodejs": RuntimeFrames(
        "node:internal/process/task_queues:processTicksAndRejections:95",
        "./lib/cart.js:checkout:42",
        "node:internal/util:deprecate:10",
        "./lib/cart.js:checkout:42",
        "node:internal/util:deprecate:10",
    ),
    "ebpf": RuntimeFrames(
        "libc.so.6.__libc_start_main",
        "cart.rs:42 - shop::cart::checkout",
        "libc.so.6.memcpy",
        "cart.rs:42 - shop::cart::checkout",
        "libc.so.6.memcpy",
    ),
}
