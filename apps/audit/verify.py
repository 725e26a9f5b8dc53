"""Walk a hash chain and report the first audit row that was altered or removed.

A chain (a project's name, or `_system`) is read in `seq` order as a stream (an iterator
with `chunk_size`, so a million rows never sit in memory together). Each row must:
- carry the next sequence number (a gap means the missing rows were removed);
- hash to its stored `hash` (recomputed with `row_hash`; else it was altered);
- link to the previous row (`prev_hash` equal to the previous row's hash; else a row was
  rewritten together with its hash, or replaced).
Last, the chain head (written in the same transaction as each row) must name the last row
walked, so a removed LAST row is found too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from apps.audit.hashing import HASHED_FIELDS, row_hash
from apps.audit.models import AuditChainHead, AuditEvent
from apps.audit.record import SYSTEM_CHAIN

DEFAULT_CHUNK_SIZE = 2000
ALTERED = "altered"
MISSING = "missing"
UNLINKED = "unlinked"
HEAD = "head"
UNKNOWN = "unknown"


@dataclass(frozen=True)
class ChainReport:
    """The outcome of walking one chain: `problem` is None when every row checked out."""

    chain: str
    rows: int  # rows walked (up to the problem, when there is one)
    problem: str | None = None
    kind: str | None = None  # altered | missing | unlinked | head | unknown
    seq: int | None = None  # the row the problem is about
    event_id: int | None = None  # its id, when the row exists

    @property
    def ok(self) -> bool:
        return self.problem is None

    def summary(self) -> str:
        if self.ok:
            return f"chain {self.chain}: {self.rows} rows OK"
        return f"chain {self.chain}: {self.problem}"


def chain_names() -> list[str]:
    """Every chain with a head or with rows, `_system` first."""
    names = set(AuditChainHead.objects.values_list("chain", flat=True))
    names |= set(AuditEvent.objects.values_list("chain", flat=True).distinct().order_by())
    return sorted(names, key=lambda name: (name != SYSTEM_CHAIN, name))


def verify_chain(chain: str, *, chunk_size: int = DEFAULT_CHUNK_SIZE) -> ChainReport:
    """Walk `chain` from seq 1 and return at its first problem (or after its last row)."""
    columns = ("id", "hash", *HASHED_FIELDS)
    rows = (
        AuditEvent.objects.filter(chain=chain)
        .order_by("seq")
        .values_list(*columns)
        .iterator(chunk_size=chunk_size)
    )
    walked = 0
    previous: dict[str, Any] | None = None
    for values in rows:
        row = dict(zip(columns, values, strict=True))
        expected_seq = walked + 1
        if row["seq"] != expected_seq:
            return _missing(chain, walked, expected_seq)
        if row_hash(row) != row["hash"]:
            return ChainReport(
                chain,
                walked,
                f"row seq {row['seq']} (id {row['id']}) was altered",
                ALTERED,
                row["seq"],
                row["id"],
            )
        expected_prev = previous["hash"] if previous is not None else ""
        if row["prev_hash"] != expected_prev:
            return ChainReport(
                chain,
                walked,
                f"row seq {row['seq']} (id {row['id']}) does not link to row seq "
                f"{row['seq'] - 1}: a row was rewritten with a new hash, or replaced",
                UNLINKED,
                row["seq"],
                row["id"],
            )
        previous = row
        walked += 1
    return _check_head(chain, walked, previous)


def _missing(chain: str, walked: int, seq: int) -> ChainReport:
    return ChainReport(chain, walked, f"row seq {seq} is missing (removed)", MISSING, seq)


def _check_head(chain: str, walked: int, last: dict[str, Any] | None) -> ChainReport:
    head = AuditChainHead.objects.filter(chain=chain).values("last_seq", "last_hash").first()
    if head is None:
        if walked == 0:
            return ChainReport(chain, 0, f"no audit chain named '{chain}'", UNKNOWN)
        return ChainReport(chain, walked, "the chain head is missing (removed)", HEAD)
    if head["last_seq"] > walked:
        return _missing(chain, walked, walked + 1)
    if head["last_seq"] < walked:
        assert last is not None
        return ChainReport(
            chain,
            walked,
            f"row seq {head['last_seq'] + 1} and later are past the chain head "
            f"(last seq {head['last_seq']}): added outside the audit writer, or the head "
            "was rolled back",
            HEAD,
            head["last_seq"] + 1,
        )
    if last is not None and head["last_hash"] != last["hash"]:
        return ChainReport(
            chain,
            walked,
            f"row seq {last['seq']} (id {last['id']}) was altered: its hash differs from "
            "the chain head's",
            ALTERED,
            last["seq"],
            last["id"],
        )
    return ChainReport(chain, walked)


def verify_chains(
    chain: str | None = None, *, chunk_size: int = DEFAULT_CHUNK_SIZE
) -> list[ChainReport]:
    """One report per chain (or for `chain` only), in `chain_names()` order."""
    names = [chain] if chain is not None else chain_names()
    return [verify_chain(name, chunk_size=chunk_size) for name in names]
