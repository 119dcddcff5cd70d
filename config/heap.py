"""A long-lived process's start-up objects kept out of the garbage collector's way.

Django, the app's modules and settings live as long as a worker does. Left in the collector's
oldest generation, every full collection walks them all again: about a tenth of a second, at
any moment of a task (a discovery batch saw one or two a run). Frozen once start-up is over
(`gc.freeze`), they are never walked again; in a prefork pool, frozen before the fork, the
collections of the pool processes no longer write to the pages they share with the parent
either (Python's documented recipe, Python's `gc` module documentation). The modules only a
worker's tasks use are imported first, so that they are frozen and shared too.
"""

import gc
import importlib

# What a worker's tasks import on first use that a web process never needs: imported by the
# worker before its pool forks, so the pool processes share it (dnspython is about 10 MB
# and a twelfth of a second to import) rather than each paying for it in its first task.
WORKER_MODULES = ("dns.resolver",)


def freeze_startup_heap() -> None:
    """Import a worker's own modules, collect once, then move every object alive now to the
    permanent generation."""
    for name in WORKER_MODULES:
        importlib.import_module(name)
    gc.collect()
    gc.freeze()
