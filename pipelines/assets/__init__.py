"""Dagster assets, one module per layer (raw → clean → credit → sampling → publish)."""

import warnings

from dagster import BetaWarning

# Ours to silence: `credit_scores` scores a range of months in one run (`backfill_policy=
# single_run`, pipelines/assets/credit.py), a documented choice; Dagster marks the parameter
# beta and would print this warning at the start of every command. Only this message is
# silenced: any other beta or deprecation warning still shows.
warnings.filterwarnings(
    "ignore", message=r"Parameter `backfill_policy` .* is currently in beta", category=BetaWarning
)
