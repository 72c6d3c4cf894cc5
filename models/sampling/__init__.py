"""Double-random inspection rounds (双随机, docs/sampling.md): round parameters, the firm draw, the
inspector assignment and the inspection schedule, as pure functions on polars frames.

What belongs here: the rules of a round and the reproducible random choices they call for.
What does not: reading the warehouse, writing plans, exports or iCalendar files, the CLI.
"""
