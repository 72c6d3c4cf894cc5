"""Pure query functions `(connection, filters) -> frame`, one module per page.

What belongs here: SQL over the warehouse contract and small frozen filter dataclasses
(hashable, so results can be cached per filter). Nothing here draws, caches or opens a
connection — tests call these functions on a fixture warehouse directly.
"""
