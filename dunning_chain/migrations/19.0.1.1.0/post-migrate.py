"""19.0.1.1.0: where each invoice stands in the chain moves from account_move's columns to the
narrow dunning_move_state table; communication lines lose their company and log columns."""


def migrate(cr, version):
    cr.execute("""
        SELECT column_name FROM information_schema.columns
         WHERE table_name = 'account_move'
           AND column_name IN ('dunning_level_id', 'dunning_due_date', 'dunning_last_date')
    """)
    if len(cr.fetchall()) == 3:
        cr.execute("""
            INSERT INTO dunning_move_state (move_id, level_id, due_date, last_date)
            SELECT id, dunning_level_id, dunning_due_date, dunning_last_date
              FROM account_move
             WHERE dunning_level_id IS NOT NULL OR dunning_last_date IS NOT NULL
            ON CONFLICT (move_id) DO NOTHING
        """)
    cr.execute("""
        ALTER TABLE account_move DROP COLUMN IF EXISTS dunning_level_id,
                                 DROP COLUMN IF EXISTS dunning_due_date,
                                 DROP COLUMN IF EXISTS dunning_last_date,
                                 DROP COLUMN IF EXISTS dunning_remind_reason
    """)
    cr.execute("""
        ALTER TABLE dunning_communication_line DROP COLUMN IF EXISTS company_id,
                                               DROP COLUMN IF EXISTS create_uid,
                                               DROP COLUMN IF EXISTS write_uid,
                                               DROP COLUMN IF EXISTS create_date,
                                               DROP COLUMN IF EXISTS write_date
    """)
