"""The warehouse remembers: everything the product stores and the files it writes.

What belongs here, with no Dagster import: where the warehouse and its reports are
(`connection`), one catalogue of every table and its schema (`catalogue`), the DDL and the
transactional writes (`tables`), reading landing files (`landing`, `ingestion`), and the
reads and writes of each layer — credit (`credit`), rounds (`sampling`, `round_exports`),
the risk model (`risk`, `risk_report`, `backtest_inputs`), publication (`publication`,
`exports`). Callers: the Dagster assets (through `pipelines.resources`), the CLI, the
dashboards, the benchmarks and the tests.

What does not: any business rule — which records count, which dates are scored, how a round
is drawn — lives in `models/`; when to run what lives in `pipelines/`.
"""
