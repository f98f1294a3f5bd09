"""flamebot's service: webhook intake, durable store, pipeline and notifiers."""

__version__ = "0.1.0"
