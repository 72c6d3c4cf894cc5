"""Double-random inspection rounds (双随机, docs/sampling.md): round parameters, eligibility and
frequency limits, the firm draw, the inspector assignment, the working-day calendar and the
inspection schedule, the plan file, inspection items and feedback, as pure functions on
polars frames.

What belongs here: the rules of a round and the reproducible random choices they call for.
What does not: reading the warehouse, writing plans, exports or iCalendar files, the CLI.
"""
