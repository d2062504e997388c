"""Where batches run: a local pool of warm worker processes, or a Ray Data actor pool.

Both runners call the same worker classes (`runners.base.BatchWorker` shape): a class whose `__init__` loads what it
needs once per process (or actor) and whose `__call__` maps a batch (column -> list of values) to a batch. The
runners differ only in who calls them; detection and decisions are the same code either way.
"""
