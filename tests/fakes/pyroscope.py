"""The strict Pyroscope fake, for tests: the one `flamebot demo` ships (receiver/demo)."""

from __future__ import annotations

from receiver.demo.matchers import Matcher, parse_selector
from receiver.demo.pyroscope_data import AGENTS, by_window
from receiver.demo.pyroscope_fake import FakePyroscope, RecordedRequest

__all__ = ["AGENTS", "FakePyroscope", "Matcher", "RecordedRequest", "by_window", "parse_selector"]
