"""The reference deployment both the Helm chart tests and the examples' tests check against."""

SECRETS_DIR = "/etc/flamebot/secrets"  # where the chart mounts its Secret
# Slack for everything, PagerDuty for payments; every credential is a file of that Secret.
NOTIFIERS = [
    {
        "name": "slack-oncall",
        "type": "slack",
        "channel": "#oncall",
        "token_file": f"{SECRETS_DIR}/slack-token",
    },
    {
        "name": "pd-payments",
        "type": "pagerduty",
        "routing_key_file": f"{SECRETS_DIR}/pagerduty-routing-key",
        "api_token_file": f"{SECRETS_DIR}/pagerduty-api-token",
        "from_email": "flamebot@example.com",
    },
]
ROUTES = {"default": ["slack-oncall"], "payments": ["slack-oncall", "pd-payments"]}
