"""Double-random inspection rounds (双随机, DESIGN §5): round parameters, the firm draw and
the inspector assignment, as pure functions on polars frames.

What belongs here: the rules of a round and the reproducible random choices they call for.
What does not: reading the warehouse, writing plans or exports, scheduling dates, the CLI.
"""
