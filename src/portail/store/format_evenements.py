"""The stored form of domain events: MessagePack written by msgspec, typed per event class.

A stored event's bytes begin with a format marker. Rows written before this format are the
library's JSON (they begin with `{`) and keep decoding through the JSON transcoder forever: rows
are never rewritten, since a rewritten row would recompute its hash exactly as tampering does.

`MARQUEUR_MSGPACK` rows hold a MessagePack map of the event's fields (the aggregate id and version
live in their columns). Each event class gets a `msgspec.Struct` built from its annotations, so
decoding yields dates, UUIDs, Decimals, enums and value objects directly, without a tagging pass.
A personal field is declared `msgspec.Raw` in that Struct: it holds either the value itself or an
encrypted envelope (a MessagePack extension of type `EXT_ENVELOPPE`: 12-byte nonce then AES-GCM
ciphertext of the value's own MessagePack bytes), decoded with the field's type once decrypted.
"""

from __future__ import annotations

import dataclasses
import threading
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from uuid import UUID

import msgspec

FORMAT_JSON = "json-v1"
FORMAT_MSGPACK = "msgpack-v1"
FORMAT_ACTUEL = FORMAT_MSGPACK
"""The format new events are written in; names the benchmark's cached communes too."""

MARQUEUR_MSGPACK = b"\x01"
"""First byte of a `msgpack-v1` stored event (a JSON object starts with `{`)."""

EXT_ENVELOPPE = 1
"""MessagePack extension type of an encrypted personal value."""

CHAMPS_DE_LIGNE = ("originator_id", "originator_version")
"""Kept in the events table's own columns, not in the stored state."""


def format_de(etat: bytes) -> str:
    if etat[:1] == MARQUEUR_MSGPACK:
        return FORMAT_MSGPACK
    if etat[:1] == b"{":
        return FORMAT_JSON
    raise ValueError(f"format d'événement inconnu (premier octet {etat[:1]!r})")


@dataclass(frozen=True)
class CodecClasse:
    """How one event class is written and read."""

    struct: type[msgspec.Struct]
    decodeur: msgspec.msgpack.Decoder[Any]
    champs: tuple[str, ...]
    personnels: frozenset[str]
    types_personnels: dict[str, Any]
    class_version: int
    struct_converti: type[msgspec.Struct]
    """The same fields, personal ones with their real type: for rows that need upcasting."""


_ENCODEUR = msgspec.msgpack.Encoder(decimal_format="string", uuid_format="bytes")
_codecs: dict[type[Any], CodecClasse] = {}
_decodeurs_valeur: dict[Any, msgspec.msgpack.Decoder[Any]] = {}
_verrou = threading.Lock()


def encoder(valeur: Any) -> bytes:
    return _ENCODEUR.encode(valeur)


def decoder_valeur(donnees: bytes, type_: Any) -> Any:
    decodeur = _decodeurs_valeur.get(type_)
    if decodeur is None:
        decodeur = msgspec.msgpack.Decoder(type_)
        _decodeurs_valeur[type_] = decodeur
    return decodeur.decode(donnees)


def codec(cls: type[Any]) -> CodecClasse:
    trouve = _codecs.get(cls)
    if trouve is not None:
        return trouve
    with _verrou:
        trouve = _codecs.get(cls)
        if trouve is None:
            trouve = _construire(cls)
            _codecs[cls] = trouve
    return trouve


def _construire(cls: type[Any]) -> CodecClasse:
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"{cls.__qualname__} n'est pas une classe d'événement")
    annotations = typing.get_type_hints(cls)
    personnels = frozenset(getattr(cls, "PERSONNEL", ()))
    champs: list[tuple[str, Any, Any]] = []
    convertis: list[tuple[str, Any, Any]] = []
    types_personnels: dict[str, Any] = {}
    noms: list[str] = []
    for champ in dataclasses.fields(cls):
        if champ.name in CHAMPS_DE_LIGNE:
            continue
        type_ = annotations[champ.name]
        if isinstance(type_, TypeVar):
            type_ = UUID
        noms.append(champ.name)
        convertis.append((champ.name, type_ | None if champ.name in personnels else type_, msgspec.NODEFAULT))
        if champ.name in personnels:
            # An erased subject's personal fields read as None whatever their type.
            types_personnels[champ.name] = type_ | None
            champs.append((champ.name, msgspec.Raw, msgspec.NODEFAULT))
        else:
            champs.append((champ.name, type_, msgspec.NODEFAULT))
    # Stamped on the event by the application after it is created, hence no annotation.
    extras = [("audit", dict[str, Any] | None, msgspec.UNSET), ("class_version", int, msgspec.UNSET)]
    nom = cls.__qualname__.replace(".", "_")
    struct = msgspec.defstruct(nom, [*champs, *extras], kw_only=True)
    struct_converti = msgspec.defstruct(f"{nom}_converti", [*convertis, *extras], kw_only=True)
    return CodecClasse(
        struct=struct,
        decodeur=msgspec.msgpack.Decoder(struct),
        champs=tuple(noms),
        personnels=personnels,
        types_personnels=types_personnels,
        class_version=int(getattr(cls, "class_version", 1)),
        struct_converti=struct_converti,
    )


class Enveloppe(typing.NamedTuple):
    nonce: bytes
    chiffre: bytes


def enveloppe(nonce: bytes, chiffre: bytes) -> msgspec.msgpack.Ext:
    return msgspec.msgpack.Ext(EXT_ENVELOPPE, nonce + chiffre)


def lire_enveloppe(valeur: Any) -> Enveloppe | None:
    if isinstance(valeur, msgspec.msgpack.Ext) and valeur.code == EXT_ENVELOPPE:
        donnees = bytes(valeur.data)
        return Enveloppe(donnees[:12], donnees[12:])
    return None


Dechiffreur = Callable[[str, Enveloppe], bytes | None]
"""Given a field name and its envelope, the value's plaintext bytes, or None once erased."""


def decoder_etat(cls: type[Any], charge: bytes, dechiffrer: Dechiffreur) -> dict[str, Any]:
    """The event's attributes (without id and version) from a `msgpack-v1` payload."""
    c = codec(cls)
    try:
        objet = c.decodeur.decode(charge)
    except msgspec.ValidationError:
        if c.class_version > 1:
            # Written before the class's last version (no `class_version` in it: version 1): a
            # field the upcast adds is missing from it.
            return _decoder_ancienne_version(cls, c, charge, dechiffrer)
        raise
    if objet.class_version is not msgspec.UNSET and objet.class_version != c.class_version:
        return _decoder_ancienne_version(cls, c, charge, dechiffrer)
    # Every field at once (a loop of getattr cost the log's decoding 0.4 µs an event).
    etat: dict[str, Any] = msgspec.structs.asdict(objet)
    del etat["class_version"]
    audit = etat.pop("audit")
    for nom in c.types_personnels:
        etat[nom] = _valeur_personnelle(nom, bytes(etat[nom]), c, dechiffrer)
    if audit is not msgspec.UNSET:
        etat["audit"] = _audit_lisible(audit, dechiffrer)
    return etat


_EN_TETES_EXT = frozenset((0xC7, 0xC8, 0xC9))
"""MessagePack's ext 8/16/32 headers: an envelope (nonce + tag alone are 28 bytes) uses one."""


def _valeur_personnelle(nom: str, octets: bytes, c: CodecClasse, dechiffrer: Dechiffreur) -> Any:
    env = lire_enveloppe(msgspec.msgpack.decode(octets)) if octets[0] in _EN_TETES_EXT else None
    if env is None:
        return decoder_valeur(octets, c.types_personnels[nom])
    clair = dechiffrer(nom, env)
    return None if clair is None else decoder_valeur(clair, c.types_personnels[nom])


def _audit_lisible(audit: dict[str, Any] | None, dechiffrer: Dechiffreur) -> dict[str, Any] | None:
    if audit is None:
        return None
    env = lire_enveloppe(audit.get("motif"))
    if env is None:
        return audit
    clair = dechiffrer(CHAMP_MOTIF, env)
    return {**audit, "motif": None if clair is None else msgspec.msgpack.decode(clair)}


CHAMP_MOTIF = "audit.motif"


V = TypeVar("V", bound=msgspec.Struct)


@dataclass(frozen=True)
class LectureReduite(Generic[V]):
    """Some of an event class's fields, decoded straight into a view (a `msgspec.Struct` naming
    them, `lecture_reduite`): MessagePack skips the others without building them. No personal
    field: the reading decrypts nothing. The view declares `class_version` (`int | UnsetType`,
    default `UNSET`) so that a row of another class version goes to the whole decoding, which
    upcasts it."""

    decodeur: msgspec.msgpack.Decoder[V]
    class_version: int


def lecture_reduite(cls: type[Any], vue: type[V]) -> LectureReduite[V]:
    c = codec(cls)
    noms = set(vue.__struct_fields__) - {"class_version", *CHAMPS_DE_LIGNE}
    if "class_version" not in vue.__struct_fields__:
        raise TypeError(f"{vue.__qualname__} doit déclarer class_version")
    if inconnus := noms - set(c.champs):
        raise TypeError(f"{vue.__qualname__} : champs absents de {cls.__qualname__} : {sorted(inconnus)}")
    if personnels := noms & c.personnels:
        raise TypeError(f"{vue.__qualname__} : champs personnels {sorted(personnels)}")
    annotations = typing.get_type_hints(cls)
    for nom, type_vu in typing.get_type_hints(vue).items():
        if nom in noms:
            _verifier_imbrique(vue, nom, type_vu, annotations[nom])
    return LectureReduite(msgspec.msgpack.Decoder(vue), c.class_version)


def champs_valeur(cls: Any) -> tuple[str, ...] | None:
    """The fields of a value object class, a frozen dataclass or a `msgspec.Struct`; None for any
    other type."""
    if isinstance(cls, type) and issubclass(cls, msgspec.Struct):
        return cls.__struct_fields__
    if isinstance(cls, type) and dataclasses.is_dataclass(cls):
        return tuple(f.name for f in dataclasses.fields(cls))
    return None


def _verifier_imbrique(vue: type[Any], nom: str, type_vu: Any, type_classe: Any) -> None:
    """A value object read reduced (a Struct, alone or in a tuple) names only its fields."""
    vus, ecrits = typing.get_args(type_vu) or (type_vu,), typing.get_args(type_classe) or (type_classe,)
    for sous_vu, sous_ecrit in zip(vus, ecrits, strict=False):
        if isinstance(sous_vu, type) and issubclass(sous_vu, msgspec.Struct):
            champs = champs_valeur(sous_ecrit)
            if champs is None:
                raise TypeError(f"{vue.__qualname__}.{nom} : {sous_ecrit!r} n'est pas un objet valeur")
            if inconnus := set(sous_vu.__struct_fields__) - set(champs):
                raise TypeError(f"{vue.__qualname__}.{nom} : champs absents : {sorted(inconnus)}")


def lire_reduit(lecture: LectureReduite[V], etat: bytes) -> V | None:
    """The reduced event from a stored state, or None when the row is to be decoded whole: the
    JSON format, another class version, or bytes this reading cannot take (the whole decoding
    then reports them)."""
    if etat[:1] != MARQUEUR_MSGPACK:
        return None
    try:
        objet = lecture.decodeur.decode(etat[1:])
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    # A row without `class_version` was written at version 1, as the whole decoding reads it: a
    # class at a later version upcasts it there, whatever fields this view names.
    version = getattr(objet, "class_version", msgspec.UNSET)
    if (1 if version is msgspec.UNSET else version) != lecture.class_version:
        return None
    return objet


def _decoder_ancienne_version(
    cls: type[Any], c: CodecClasse, charge: bytes, dechiffrer: Dechiffreur
) -> dict[str, Any]:
    """A row written by an older class version: upcast its plain values, then type them.

    The class's `upcast_vX_vY` functions receive MessagePack's plain values here (a date is a
    string, a UUID is bytes) and must write plain values too.
    """
    brut: dict[str, Any] = msgspec.msgpack.decode(charge)
    for nom in c.personnels:
        env = lire_enveloppe(brut.get(nom))
        if env is not None:
            clair = dechiffrer(nom, env)
            brut[nom] = None if clair is None else msgspec.msgpack.decode(clair)
    audit = brut.pop("audit", msgspec.UNSET)
    version = int(brut.pop("class_version", 1))
    while version < c.class_version:
        getattr(cls, f"upcast_v{version}_v{version + 1}")(brut)
        version += 1
    objet = msgspec.convert(brut, c.struct_converti, strict=False)
    etat = {nom: getattr(objet, nom) for nom in c.champs}
    if audit is not msgspec.UNSET:
        etat["audit"] = _audit_lisible(audit, dechiffrer)
    return etat
