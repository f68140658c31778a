"""What every stored event of the portal declares about the personal data it carries."""

from __future__ import annotations

from typing import ClassVar


class PortailEvent:
    """Mixin for the portal's domain events.

    `PERSONNEL` names the fields holding personal data (names, contact details, birth dates,
    health data, IBAN): the store encrypts them with the key of the event's subject, so that
    erasing a family makes them unreadable while amounts, dates and ids stay in clear.
    `SUJET_EST_FAMILLE` says the aggregate itself is a family (its id is the family id).
    """

    PERSONNEL: ClassVar[tuple[str, ...]] = ()
    SUJET_EST_FAMILLE: ClassVar[bool] = False
    SUJET_PERSONNEL: ClassVar[bool] = False
    """The aggregate concerns a person: the free-text reason of the audit is encrypted too."""
