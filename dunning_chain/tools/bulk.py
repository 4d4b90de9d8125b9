"""Rows written in bulk with PostgreSQL's COPY (the planner writes tens of thousands at once:
a COPY takes far less time than INSERTs of as many rows, as in odoo.orm.models, which COPYs
too)."""
import csv
import io

import psycopg2.extensions


def copy_rows(cr, table, columns, rows):
    """COPY ``rows`` (sequences of plain column values, in the order of ``columns``) into
    ``table``: ``None`` is NULL, ``True``/``False`` are booleans (the caller turns the ORM's
    ``False`` into ``None`` for the other columns), the rest is written as ``str()`` of it."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        # CSV: an empty unquoted field is NULL
        writer.writerow(row)
    buffer.seek(0)
    # psycopg2's COPY does not go through the asynchronous wait callback
    callback = psycopg2.extensions.get_wait_callback()
    psycopg2.extensions.set_wait_callback(None)
    try:
        cr.copy_expert(f'COPY "{table}" ({", ".join(columns)}) FROM STDIN WITH (FORMAT csv)',
                       buffer)
    finally:
        psycopg2.extensions.set_wait_callback(callback)
