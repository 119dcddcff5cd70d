"""A long-lived process's start-up objects kept out of the garbage collector's way.

Django, the app's modules and settings live as long as a worker does. Left in the collector's
oldest generation, every full collection walks them all again: about a tenth of a second, at
any moment of a task (a discovery batch saw one or two a run). Frozen once start-up is over
(`gc.freeze`), they are never walked again; in a prefork pool, frozen before the fork, the
collections of the pool processes no longer write to the pages they share with the parent
either (Python's documented recipe, Python's `gc` module documentation).
"""

import gc


def freeze_startup_heap() -> None:
    """Collect once, then move every object alive now to the permanent generation."""
    gc.collect()
    gc.freeze()
