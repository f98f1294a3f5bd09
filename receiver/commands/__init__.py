"""The `flamebot` command line: one module per command, `cli` wires them (PRODUCT.md §4)."""
