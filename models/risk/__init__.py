"""The risk model: does the credit tier predict what the next inspection finds?

What belongs here: pure, typed functions on polars frames — the canonical inspection-history
frames (`history`), point-in-time features and labels (`features`), inspector strictness by
partial pooling (`inspectors`), the scikit-learn models as a versioned artefact with one
scoring path and two scores (`model`), the choice among candidate models (`selection`),
evaluation metrics and bootstrap intervals (`metrics`), the backtest (`backtest`), population
stability (`stability`) and risk ordering of a round's dates (`ordering`); settings in
`default_risk.yaml` (`config`). What does not: files, the warehouse, Dagster, plots.
"""
