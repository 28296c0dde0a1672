"""mockado control plane: config rendering, the local stack and the `mockado` CLI."""
