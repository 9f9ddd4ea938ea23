"""The search tokens of a case: what the case list's name search matches (``core.cases.search``)."""

from __future__ import annotations

import uuid

from sqlalchemy import Index, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, TenantScoped, tenant_fk

#: Byte order on PostgreSQL whatever the database's collation, so that the tokens
#: starting with a word are one range of the index (SQLite compares bytes already).
TOKEN_TYPE = Text().with_variant(Text(collation="C"), "postgresql")


class CaseSearchToken(TenantScoped, Base):
    """One suffix of the normalised last name, first name or reference of a case
    (``core.cases.search.case_tokens``); derived data, rewritten with the case and its
    person, never edited on its own and not carried by tenant archives."""

    __tablename__ = "case_search_tokens"
    __table_args__ = (
        tenant_fk("case_id", "cases", ondelete="CASCADE"),
        # the search: the cases having a token in [word, word + U+10FFFF)
        Index("ix_case_search_tokens_token", "tenant_id", "token", "case_id"),
    )

    id = None  # no surrogate key: the row is (tenant, case, token)
    case_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    token: Mapped[str] = mapped_column(TOKEN_TYPE, primary_key=True)
