"""Waiting-list order: whatever the sequence of requests and cancellations, places go to the
waiting children in the order they asked, and never beyond capacity."""

from __future__ import annotations

import uuid
from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from portail.domain.capacite import Attribution, Capacite

ENFANTS = [uuid.UUID(int=i + 1) for i in range(8)]


@given(
    capacite=st.integers(min_value=0, max_value=4),
    operations=st.lists(st.tuples(st.sampled_from(ENFANTS), st.booleans()), max_size=60),
)
def test_ordre_de_la_liste_d_attente(capacite, operations) -> None:
    cap = Capacite(id=uuid.uuid4(), accueil_id=uuid.uuid4(), jour=date(2026, 7, 6))
    places: list[uuid.UUID] = []
    attente: list[uuid.UUID] = []
    for enfant, demande in operations:
        if demande:
            attribution = cap.demander(enfant, "JOURNEE", capacite, liste_attente=True)
            if enfant in places:
                assert attribution is Attribution.PLACE
            elif enfant in attente:
                assert attribution is Attribution.ATTENTE
            elif len(places) < capacite and not attente:
                assert attribution is Attribution.PLACE
                places.append(enfant)
            else:
                assert attribution is Attribution.ATTENTE
                attente.append(enfant)
        else:
            cap.liberer(enfant, "JOURNEE")
            promus = cap.promouvoir("JOURNEE", capacite)
            if enfant in places:
                places.remove(enfant)
            elif enfant in attente:
                attente.remove(enfant)
            attendus = []
            while attente and len(places) < capacite:
                attendus.append(attente.pop(0))
                places.append(attendus[-1])
            assert promus == attendus
        assert cap.places.get("JOURNEE", []) == places
        assert cap.attente.get("JOURNEE", []) == attente
        assert len(places) <= capacite
