"""The `slack` config block: the Slack app's signing secret, for `POST /slack/interactions`.

    slack: {signing_secret: "..."}        # or signing_secret_file: /run/secrets/slack-signing

Without it the endpoint is not served (every request would have to be refused anyway).
"""

from __future__ import annotations

from pathlib import Path
from typing import Self

from pydantic import SecretStr, model_validator

from enrichers.settings import StrictModel, resolve_secret_files

__all__ = ["SlackAppSettings"]


class SlackAppSettings(StrictModel):
    signing_secret: SecretStr | None = None
    signing_secret_file: Path | None = None

    @model_validator(mode="after")
    def _secret(self) -> Self:
        resolve_secret_files(self, ("signing_secret",))
        if self.signing_secret is None:
            raise ValueError("signing_secret: set signing_secret or signing_secret_file")
        return self
