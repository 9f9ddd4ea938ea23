"""A new row's values completed with the columns' Python defaults (core.row_defaults), the
one completion of the bulk loads and of the rows a request writes by Core."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, func

from core import row_defaults
from core.models import Case, Referral


def test_complete_fills_the_model_defaults_stamps_the_tenant_and_refuses_unknown_columns():
    table = Case.__table__
    row = row_defaults.complete(table, 42, {"id": uuid.uuid4(), "reference": "2026-00001"})
    assert list(row) == [c.name for c in table.columns]
    assert row["tenant_id"] == 42 and row["reference"] == "2026-00001"
    assert row["version"] == 1  # the model's scalar default
    with pytest.raises(ValueError, match="unknown columns"):
        row_defaults.complete(table, 42, {"id": uuid.uuid4(), "colour": "blue"})


def test_callable_defaults_are_called_for_each_row_and_given_values_kept():
    table = Referral.__table__
    callables = [name for name, d in row_defaults.defaults(table).items() if callable(d)]
    assert callables  # created_at and the like
    first = row_defaults.complete(table, 1, {"id": uuid.uuid4()})
    second = row_defaults.complete(table, 1, {"id": uuid.uuid4()})
    for name in callables:
        assert first[name] is not None
        if isinstance(first[name], dict | list):
            assert first[name] is not second[name]  # a new one per row, never shared
    given = row_defaults.complete(table, 1, {"id": uuid.uuid4(), callables[0]: "kept"})
    assert given[callables[0]] == "kept"


def test_a_tenant_given_by_the_record_is_kept_for_the_writer_to_judge():
    row = row_defaults.complete(Case.__table__, 1, {"id": uuid.uuid4(), "tenant_id": 2})
    assert row["tenant_id"] == 2  # core.tenancy.scoped_insert / bulk_insert refuse it


def test_a_default_written_in_sql_is_refused_not_silently_left_empty():
    table = Table("with_sql_default", MetaData(),
                  Column("tenant_id", Integer), Column("n", Integer, default=func.abs(-1)))
    with pytest.raises(TypeError, match="with_sql_default.n: a SQL default"):
        row_defaults.defaults(table)
