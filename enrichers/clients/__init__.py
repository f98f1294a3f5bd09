"""The I/O of enrichment: one client per backend (Prometheus, Pyroscope), the shared HTTP
setup, the single-flight cache and the fleet's profile-type listing. Everything else in
`enrichers` is pure."""
