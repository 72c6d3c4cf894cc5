"""Dagster assets, one module per layer (raw → clean → credit → sampling → publish)."""
