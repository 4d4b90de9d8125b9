"""SQL cloning for the scale benchmark (setup/bench_scale.py): never imported by the addons.

Real invoices made through the ORM are the templates; a clone copies a template's account_move
row, its account_move_line rows and the many2many rows of those lines (taxes, tax tags) with
INSERT ... SELECT over generate_series, every column as Odoo wrote it except:

* ids: new ones from the tables' own sequences (nextval), so that Odoo's next records follow;
* name, sequence_prefix, sequence_number, payment_reference, move_name: a journal of their
  own ("BNCH", yearly numbering like Odoo's: BNCH/2026/0000001), unique per journal;
* partner_id, commercial_partner_id, partner_shipping_id, invoice_partner_display_name and the
  lines' partner_id: another customer (clones of the template customers, 20,000 by default);
* every date column (date, invoice_date, invoice_date_due, the lines' date_maturity...) moved
  by the same number of days, so the payment terms stay what Odoo computed (instalments keep
  their gaps) and the currency amounts stay right (the rates of the benchmark never change);
* access_token, hashes, matching numbers: empty, create/write dates: now.

Amounts, residuals, payment_state (not_paid), taxes and accounts are the template's: an open
posted invoice as Odoo wrote it. Chatter messages and followers are not cloned (nothing the
ORM or the planner needs to see an open invoice).
"""
import time

#: account.move columns that a clone does not copy (expression over the chunk row c)
MOVE_SET = {
    "id": "c.new_id",
    "name": "c.name",
    "sequence_prefix": "c.prefix",
    "sequence_number": "c.seq",
    "payment_reference": "c.name",
    "journal_id": "%(journal)s",
    "partner_id": "c.partner_id",
    "commercial_partner_id": "c.partner_id",
    "partner_shipping_id": "c.partner_id",
    "invoice_partner_display_name": "c.partner_name",
    "access_token": "NULL",
    "inalterable_hash": "NULL",
    "secure_sequence_number": "NULL",
    "message_main_attachment_id": "NULL",
    "made_sequence_gap": "FALSE",
    "ref": "NULL",
}
LINE_SET = {
    "id": "c.new_line_id",
    "move_id": "c.new_id",
    "move_name": "c.name",
    "journal_id": "%(journal)s",
    "partner_id": "CASE WHEN t.partner_id IS NULL THEN NULL ELSE c.partner_id END",
    "matching_number": "NULL",
    "full_reconcile_id": "NULL",
}
PARTNER_SET = {
    "id": "c.new_id",
    "name": "c.name",
    "complete_name": "c.name",
    "commercial_company_name": "c.name",
    "commercial_partner_id": "c.new_id",
    "email": "c.email",
    "email_normalized": "c.email",
    "ref": "c.ref",
}


def columns(cr, table):
    cr.execute("SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
               "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped "
               "ORDER BY attnum", (table,))
    return cr.fetchall()


def select_list(cr, table, overrides, shift="c.shift"):
    """(column list, expression list) copying ``table`` from alias t with ``overrides``; dates
    move by ``shift`` days, create/write dates are now."""
    names, exprs = [], []
    for name, kind in columns(cr, table):
        names.append(f'"{name}"')
        if name in overrides:
            exprs.append(overrides[name])
        elif name in ("create_date", "write_date"):
            exprs.append("(now() AT TIME ZONE 'UTC')")
        elif kind == "date" and shift:
            exprs.append(f't."{name}" + {shift}')
        else:
            exprs.append(f't."{name}"')
    return ", ".join(names), ", ".join(exprs)


def rel_tables(cr, target):
    """[(table, column pointing at ``target``.id, other column)]: the many2many tables of
    ``target`` (two columns, both foreign keys)."""
    cr.execute("""
        SELECT c.conrelid::regclass::text, a.attname
          FROM pg_constraint c
          JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
         WHERE c.contype = 'f' AND c.confrelid = %s::regclass
           AND array_length(c.conkey, 1) = 1""", (target,))
    found = []
    for table, column in cr.fetchall():
        cols = [name for name, _kind in columns(cr, table)]
        if len(cols) == 2 and table != target:
            found.append((table, column, next(c for c in cols if c != column)))
    return found


def clone_partners(cr, template_ids, count, first_number):
    """``count`` customers cloned from ``template_ids`` (round robin: their countries, time
    zones and languages), named "Bench customer NNNNN" from ``first_number``. Returns ids."""
    if count <= 0:
        return []
    cr.execute("""
        CREATE TEMP TABLE c ON COMMIT DROP AS
        SELECT nextval('res_partner_id_seq')::int AS new_id, t.id AS tmpl_id,
               'Bench customer ' || lpad((%(first)s + i)::text, 5, '0') AS name,
               'customer' || (%(first)s + i) || '@bench.example.com' AS email,
               'BENCH-' || (%(first)s + i) AS ref
          FROM generate_series(0, %(count)s - 1) i
          JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k
                  FROM res_partner WHERE id = ANY(%(tmpl)s)) t ON t.k = i %% %(ntmpl)s""",
               {"first": first_number, "count": count, "tmpl": list(template_ids),
                "ntmpl": len(template_ids)})
    names, exprs = select_list(cr, "res_partner", PARTNER_SET, shift=None)
    cr.execute(f"INSERT INTO res_partner ({names}) SELECT {exprs} "
               "FROM c JOIN res_partner t ON t.id = c.tmpl_id")
    cr.execute("SELECT new_id FROM c ORDER BY new_id")
    ids = [row[0] for row in cr.fetchall()]
    cr.execute("DROP TABLE c")
    return ids


def prepare(cr):
    """Temporary tables of one build: the templates (with their first maturity) and the
    customers, numbered for the round robins of clone_invoices."""
    cr.execute("""
        CREATE TEMP TABLE bench_tmpl AS
        SELECT m.id, row_number() OVER (ORDER BY m.id) - 1 AS k, MIN(l.date_maturity) AS first_due,
               m.invoice_date
          FROM account_move m JOIN account_move_line l
            ON l.move_id = m.id AND l.display_type = 'payment_term'
         WHERE m.ref = 'bench template' GROUP BY m.id""")
    cr.execute("""
        CREATE TEMP TABLE bench_partner AS
        SELECT id, name, row_number() OVER (ORDER BY id) - 1 AS k
          FROM res_partner WHERE ref LIKE 'BENCH-%%'""")
    cr.execute("SELECT count(*) FROM bench_tmpl")
    ntmpl = cr.fetchone()[0]
    cr.execute("SELECT count(*) FROM bench_partner")
    return ntmpl, cr.fetchone()[0]


def clone_invoices(cr, journal_id, first, count, date_expr, ntmpl, npartners, chunk=50000,
                   say=print):
    """Clones number ``first`` .. ``first + count - 1``: clone i copies template i mod T for
    customer (i * 7919) mod C, its invoice date ``date_expr`` (SQL over i, e.g.
    ``DATE '2026-10-01' + i %% 9``). Commits per chunk. Returns the seconds spent."""
    names, exprs = select_list(cr, "account_move", MOVE_SET)
    line_names, line_exprs = select_list(cr, "account_move_line", LINE_SET)
    rels = rel_tables(cr, "account_move_line")
    move_rels = rel_tables(cr, "account_move")
    started = time.perf_counter()
    done = 0
    while done < count:
        n = min(chunk, count - done)
        lo = first + done
        cr.execute(f"""
            CREATE TEMP TABLE c ON COMMIT DROP AS
            SELECT i + 1 AS seq, t.id AS tmpl_id, nextval('account_move_id_seq')::int AS new_id,
                   p.id AS partner_id, p.name AS partner_name,
                   ({date_expr}) - t.invoice_date AS shift
              FROM generate_series(%(lo)s, %(hi)s) i
              JOIN bench_tmpl t ON t.k = i %% %(ntmpl)s
              JOIN bench_partner p ON p.k = (i::bigint * 7919) %% %(npartners)s""",
                   {"lo": lo, "hi": lo + n - 1, "ntmpl": ntmpl, "npartners": npartners})
        cr.execute("""
            ALTER TABLE c ADD COLUMN prefix varchar, ADD COLUMN name varchar;
            UPDATE c SET prefix = 'BNCH/' || to_char(t.date + c.shift, 'YYYY') || '/',
                         name = 'BNCH/' || to_char(t.date + c.shift, 'YYYY') || '/'
                                || lpad(c.seq::text, 7, '0')
              FROM account_move t WHERE t.id = c.tmpl_id""")
        cr.execute(f"INSERT INTO account_move ({names}) SELECT {exprs} "
                   "FROM c JOIN account_move t ON t.id = c.tmpl_id", {"journal": journal_id})
        for table, col, other in move_rels:
            cr.execute(f'INSERT INTO "{table}" ("{col}", "{other}") SELECT c.new_id, r."{other}" '
                       f'FROM c JOIN "{table}" r ON r."{col}" = c.tmpl_id')
        cr.execute("""
            CREATE TEMP TABLE cl ON COMMIT DROP AS
            SELECT c.*, l.id AS tmpl_line_id,
                   nextval('account_move_line_id_seq')::int AS new_line_id
              FROM c JOIN account_move_line l ON l.move_id = c.tmpl_id""")
        cr.execute(f"INSERT INTO account_move_line ({line_names}) SELECT {line_exprs} "
                   "FROM cl c JOIN account_move_line t ON t.id = c.tmpl_line_id",
                   {"journal": journal_id})
        for table, col, other in rels:
            cr.execute(f'INSERT INTO "{table}" ("{col}", "{other}") '
                       f'SELECT c.new_line_id, r."{other}" '
                       f'FROM cl c JOIN "{table}" r ON r."{col}" = c.tmpl_line_id')
        cr.commit()
        done += n
        elapsed = time.perf_counter() - started
        say(f"  cloned {done}/{count} invoices ({done / elapsed:.0f}/s)")
    return time.perf_counter() - started


def counts(cr):
    """{what: number} of the open posted customer invoices and their receivable lines."""
    cr.execute("""
        SELECT count(*), count(*) FILTER (WHERE m.payment_state = 'not_paid'),
               (SELECT count(*) FROM account_move_line l JOIN account_move mm ON mm.id = l.move_id
                 WHERE l.display_type = 'payment_term' AND NOT l.reconciled
                   AND mm.move_type = 'out_invoice' AND mm.state = 'posted'),
               count(DISTINCT m.commercial_partner_id), count(DISTINCT m.currency_id)
          FROM account_move m
         WHERE m.move_type = 'out_invoice' AND m.state = 'posted'
           AND m.payment_state IN ('not_paid', 'partial')""")
    row = cr.fetchone()
    return dict(zip(("open", "not_paid", "open_receivable_lines", "customers", "currencies"),
                    row))
