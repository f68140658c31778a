"""The cyclic garbage collector, kept out of the way of work that allocates page by page.

Decoding and folding a page of the log allocates hundreds of thousands of objects. CPython's
collector then runs every 700 allocations, and the older generations it promotes them to are
walked again with everything the process keeps (kept aggregates, the runner's id maps, the
drafts' folded families). Measured on the 10,000-child commune (475,507 events): a rebuild took
237 s with the collector running during pages and 143 s without. A page's objects are freed by
reference counting once it is done; the rare cycles among them wait for the next collection,
which runs between pages.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def sans_collecte() -> Iterator[None]:
    """No cyclic collection inside the block (nested blocks leave it to the outermost)."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def geler_le_tas() -> None:
    """Move every object alive now out of the collector's generations, for good: what a process
    builds at start and keeps (the application, its templates, its caches filled ahead) is no
    longer walked by each full collection. Measured in an api process at 10,000 children, during
    the parents' month reads: full collections of up to 73–104 ms before, at most 10 ms after, and
    the reads' p99 from 113–126 ms to 71–81 ms. Only the youngest generation is collected first:
    a full collection is the pause this avoids (and, in a test process that starts an app after
    hundreds of others, it cost the suite a minute); what few cycles of garbage are frozen with
    the rest wait for `degeler_le_tas`."""
    gc.collect(0)
    gc.freeze()


def degeler_le_tas() -> None:
    """At a process's end (or an app's, in tests that start many): what was frozen becomes
    collectable again, cycles among it included."""
    gc.unfreeze()
