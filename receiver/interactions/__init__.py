"""Slack interactivity: `POST /slack/interactions`, the buttons' answers (PRODUCT.md §7.5).

- `settings`: the `slack` config block (`signing_secret` / `signing_secret_file`);
- `signature`: Slack's v0 request signature, checked before anything is read;
- `clicks`: a `block_actions` payload as the clicks flamebot understands, pure;
- `silence`: the Alertmanager silence of a group and its confirmation text, pure;
- `work`: what a click does (silence, re-run, feedback), in the service's background;
- `http`: the endpoint, which acknowledges at once and leaves the work to `work`.
"""
