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
