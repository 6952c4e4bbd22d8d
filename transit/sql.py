"""Small SQL expressions for local-time arithmetic in PostgreSQL.

Times are stored in UTC; stays are counted in the local calendar of the place where the person
entered (America/Mexico_City, America/Guatemala, America/Cancun...). These expressions let the
database do that arithmetic, so overstay detection never loops over events in Python.
"""

from __future__ import annotations

from django.db.models import DateField, DateTimeField, Func


class LocalDate(Func):
    """``(timestamp AT TIME ZONE tz)::date``: the calendar date at a place."""

    arg_joiner = " AT TIME ZONE "
    template = "((%(expressions)s)::date)"
    output_field = DateField()


class LocalMidnight(Func):
    """The instant local midnight begins on ``date + days`` in ``tz`` (a timestamptz).

    NULL when ``days`` is NULL, so ``LEAST`` ignores it.
    """

    output_field = DateTimeField()

    def __init__(self, date, days, tz, **extra):
        super().__init__(date, days, tz, **extra)

    def as_sql(self, compiler, connection, **extra_context):
        parts, params = [], []
        for expression in self.get_source_expressions():
            sql, sql_params = compiler.compile(expression)
            parts.append(sql)
            params.extend(sql_params)
        date, days, tz = parts
        return f"((({date}) + ({days})::integer)::timestamp AT TIME ZONE ({tz}))", params
