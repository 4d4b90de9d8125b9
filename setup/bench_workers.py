"""Several senders at once, no duplicates: real OS processes over the same due communications.

    ./setup/bench_workers.sh [--communications 2000] [--workers 1,2,4] [--no-kill]
                             [--queue-job] [--port 8094 (and 8095)] [--keep]   (wrapper: fresh database)

1. prepare: on a fresh database, N customers with one overdue invoice each, a one-level policy
   sending e-mail only (the count proof; letters are left out: they would only add wkhtmltopdf
   time), planned under a clock frozen on Wednesday 10:00 UTC (the senders' at 11:00): N
   scheduled communications whose moment has come. Each sender process runs as its own user
   ("Bench sender k", superuser rights like the cron's), so the e-mails it posts say which
   process sent them. That database is the template of every run (``createdb -T``: the same
   starting state each time).
2. for 1, 2 and 4 senders: a copy of the template, k processes started at once, each running
   the dunning cron's method (``dunning.communication._cron_dunning_run``: delivery news,
   thanks, plan, then the sending in committed batches of 100 that lock their rows with SKIP
   LOCKED); a process whose transaction fails to serialise runs again, as the cron would. Then
   the counts, in SQL: communications by state, the e-mail (chatter message posted on the
   communication, its mail.mail in Odoo's outgoing queue) per communication, the chatter notes
   on the customer and on the invoice per communication, the seals, who sent how many, and the
   wall time.
3. kill -9: one sender, killed (SIGKILL) once some but not all were sent, started again: the
   same counts (nothing lost, nothing twice).
4. --queue-job: a copy with OCA queue_job and dunning_queue_job installed, ``odoo-bin
   --workers=2 --load=web,queue_job`` with queue_job's runner (channels root:2,root.dunning:2),
   the cron's method called once from another process (it plans and enqueues one job per batch
   and company), wait until no job is left to do, the same counts (who: the worker process
   that performed each job, from queue_job's records).

Nothing leaves the machine: no process here runs Odoo's mail queue (the e-mails stay outgoing
in mail.mail, which is what is counted), and the queue_job server runs without cron threads.
"""
import argparse
import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import date, timedelta

FROZEN_AT = "2026-11-25 10:00:00"  # a Wednesday, 10:00 UTC: inside any send window
#: the senders' clock: an hour later (the planning's clock ticks while the data is created:
#: what it planned at 10:04 is due at 11:00), still inside the send window
SENDERS_AT = "2026-11-25 11:00:00"


def odoo_registry(args, database, clock=FROZEN_AT):
    """Odoo's configuration for ``database``, the clock frozen at ``clock`` (time ticks)."""
    from odoo.tools import config
    config.parse_config(["-c", args.config, "-d", database,
                         f"--addons-path={args.addons_path}", "--log-level=warn"])
    from freezegun import freeze_time
    freeze_time(clock, tick=True).start()
    from odoo.modules.registry import Registry
    return Registry(database)


# ---------------------------------------------------------------------------------- prepare
def prepare(args):
    import odoo
    from odoo.fields import Command
    registry = odoo_registry(args, args.database)
    t0 = time.perf_counter()
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        company = env.company
        company.email = company.email or "billing@bench.example.com"
        for k in range(1, 5):
            env["res.users"].create({
                "name": f"Bench sender {k}", "login": f"bench_sender_{k}",
                "email": f"sender{k}@bench.example.com",
                "group_ids": [Command.set([env.ref("base.group_user").id])]})
        policy = env["dunning.policy"].create({
            "name": "Benchmark chain (e-mail)", "company_id": company.id, "max_per_hour": 0,
            "cap_email": 0, "preference_delay_days": 0, "window_start": 0.0,
            "window_end": 21.0, "meal_blackout": False,
            "level_ids": [Command.create({
                "name": "Reminder", "offset_days": 30, "channel_ids": [
                    Command.create({"channel": "email", "mail_template_id": env.ref(
                        "dunning_chain.mail_template_dunning_firm").id})]})],
        })
        company.dunning_policy_id = policy
        today = date.today()
        partners = env["res.partner"].create([{
            "name": f"Bench customer {i:05d}", "email": f"customer{i}@bench.example.com",
            "is_company": True, "tz": "UTC", "city": "Madrid",
            "country_id": env.ref("base.es").id,
        } for i in range(args.communications)])
        product = env["product.product"].create({"name": "Bench service", "type": "service"})
        for start in range(0, len(partners), 500):
            vals = [{
                "move_type": "out_invoice", "partner_id": partner.id,
                "invoice_date": today - timedelta(days=61 + i % 30),
                "invoice_date_due": today - timedelta(days=31 + i % 30),
                "invoice_line_ids": [Command.create({
                    "product_id": product.id, "quantity": 1, "price_unit": 100 + i % 900,
                    "tax_ids": []})],
            } for i, partner in enumerate(partners[start:start + 500], start)]
            moves = env["account.move"].create(vals)
            for move, val in zip(moves, vals):
                move.invoice_date_due = val["invoice_date_due"]
            moves.action_post()
            cr.commit()
        comms = env["dunning.plan"].with_context(
            allowed_company_ids=[company.id])._dunning_plan(companies=company)
        cr.commit()
        due = env["dunning.communication"].search_count([
            ("state", "=", "scheduled"), ("scheduled_at", "<=", odoo.fields.Datetime.now())])
        print(f"prepared {args.database}: {len(partners)} customers with one overdue invoice "
              f"each, {len(comms)} communications planned (e-mail only), {due} due now, "
              f"in {time.perf_counter() - t0:.1f} s", flush=True)
    os._exit(0)


# ---------------------------------------------------------------------------------- a sender
def worker(args):
    """One sender process: the cron's method as user 'Bench sender k', again after a
    serialisation failure (the cron would run again), until a run ends normally."""
    import odoo
    import psycopg2.errors
    registry = odoo_registry(args, args.database, SENDERS_AT)
    # CLOCK_MONOTONIC: one clock for every process of the machine (freezegun leaves it alone)
    start, retries = time.clock_gettime(time.CLOCK_MONOTONIC), 0
    while True:
        try:
            with registry.cursor() as cr:
                uid = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})["res.users"].search(
                    [("login", "=", f"bench_sender_{args.worker}")]).id
                env = odoo.api.Environment(cr, uid, {}, su=True)
                env["dunning.communication"]._cron_dunning_run()
            break
        except psycopg2.errors.TransactionRollbackError as exc:
            retries += 1
            print(f"  sender {args.worker} (pid {os.getpid()}): {type(exc).__name__}, "
                  "runs again", flush=True)
    end = time.clock_gettime(time.CLOCK_MONOTONIC)
    print(f"  sender {args.worker} (pid {os.getpid()}) ran in {end - start:.1f} s (Odoo loaded), "
          f"{retries} serialisation retries", flush=True)
    print(f"SPAN {start} {end}", flush=True)
    os._exit(0)


# ---------------------------------------------------------------------------------- counting
def pg_args():
    from odoo.tools import config
    return {"host": config["db_host"] or "localhost", "port": config["db_port"] or 5432,
            "user": config["db_user"], "password": config["db_password"]}


def connect(database):
    import psycopg2
    conn = psycopg2.connect(dbname=database, **pg_args())
    conn.autocommit = True
    return conn


def one(cur, sql, params=()):
    cur.execute(sql, params)
    return cur.fetchone()[0]


NOTE_REF = re.compile(r'data-oe-model="dunning\.communication" data-oe-id="(\d+)"')
WHO_SENDERS = """
    SELECT u.login, count(*) FROM mail_message m JOIN res_users u ON u.id = m.create_uid
     WHERE m.model = 'dunning.communication' AND m.message_type = 'comment'
     GROUP BY 1 ORDER BY 1"""
WHO_JOBS = """
    SELECT 'worker pid ' || worker_pid, sum(jsonb_array_length((records #>> '{}')::jsonb -> 'ids'))
      FROM queue_job WHERE method_name = '_dunning_job_send' AND state = 'done'
     GROUP BY worker_pid ORDER BY 1"""


def count(database, who_sql=WHO_SENDERS):
    """The counts, in SQL, printed; True when every check holds."""
    conn = connect(database)
    cur = conn.cursor()
    cur.execute("SELECT state, count(*) FROM dunning_communication GROUP BY state ORDER BY 1")
    states = dict(cur.fetchall())
    total = sum(states.values())
    sent = states.get("sent", 0)
    # e-mails: the messages posted on the communication (to the customer) and their mail.mail
    cur.execute("""SELECT c.id, count(DISTINCT m.id), count(mm.id)
                     FROM dunning_communication c
                LEFT JOIN mail_message m ON m.model = 'dunning.communication' AND m.res_id = c.id
                                        AND m.message_type = 'comment'
                LEFT JOIN mail_mail mm ON mm.mail_message_id = m.id
                    WHERE c.state = 'sent' GROUP BY c.id""")
    per_comm = cur.fetchall()
    messages = Counter(row[1] for row in per_comm)
    mails = Counter(row[2] for row in per_comm)
    linked = one(cur, """SELECT count(*) FROM dunning_communication c JOIN mail_message m
                          ON m.id = c.mail_message_id AND m.res_id = c.id WHERE c.state = 'sent'""")
    # chatter notes on the customer and on the invoice naming the communication
    notes = {}
    for model in ("res.partner", "account.move"):
        cur.execute("""SELECT body FROM mail_message WHERE model = %s
                          AND message_type = 'notification'
                          AND body LIKE '%%data-oe-model="dunning.communication"%%'""", (model,))
        refs = Counter(int(i) for (body,) in cur.fetchall() for i in NOTE_REF.findall(body))
        notes[model] = Counter(refs.values())
        notes[model][0] = sent - len(refs)
    seals = one(cur, "SELECT count(*) FROM dunning_communication WHERE state = 'sent' "
                     "AND hash IS NOT NULL")
    print(f"  communications: {total}, by state {states}", flush=True)
    print(f"  e-mails per sent communication {dict(sorted(messages.items()))} "
          f"({{e-mails: communications}}), their mail.mail {dict(sorted(mails.items()))}, "
          f"the communication's own e-mail: {linked}", flush=True)
    print(f"  chatter notes per sent communication: on the customer "
          f"{dict(sorted(notes['res.partner'].items()))}, on the invoice "
          f"{dict(sorted(notes['account.move'].items()))}; sealed: {seals}", flush=True)
    cur.execute(who_sql)
    print(f"  communications sent by each process: {dict(cur.fetchall())}", flush=True)
    conn.close()
    ok = (states.get("scheduled", 0) == 0 and sent == total and set(messages) == {1}
          and set(mails) == {1} and linked == sent and seals == sent
          and notes["res.partner"][0] == 0 and set(notes["res.partner"]) == {0, 1}
          and notes["account.move"][0] == 0 and set(notes["account.move"]) == {0, 1})
    print("  OK: each sent once, one e-mail and one note on its customer and its invoice"
          if ok else "  NOT OK", flush=True)
    return ok


# ---------------------------------------------------------------------------------- the runs
def copy_db(args, name):
    from odoo.tools import config
    env = dict(os.environ, PGPASSWORD=pg_args()["password"] or "")
    pg = ["-h", pg_args()["host"], "-p", str(pg_args()["port"]), "-U", pg_args()["user"]]
    subprocess.run(["dropdb", *pg, "--if-exists", name], check=True, env=env)
    subprocess.run(["createdb", *pg, "-T", args.database, name], check=True, env=env)
    store = os.path.join(config["data_dir"], "filestore")
    if os.path.isdir(os.path.join(store, args.database)):
        shutil.copytree(os.path.join(store, args.database), os.path.join(store, name))
    return name


def drop_db(args, name):
    from odoo.tools import config
    if args.keep:
        print(f"  kept {name}", flush=True)
        return
    env = dict(os.environ, PGPASSWORD=pg_args()["password"] or "")
    subprocess.run(["dropdb", "-h", pg_args()["host"], "-p", str(pg_args()["port"]),
                    "-U", pg_args()["user"], "--if-exists", name], check=True, env=env)
    shutil.rmtree(os.path.join(config["data_dir"], "filestore", name), ignore_errors=True)


def me(args, *extra, database=None):
    return [sys.executable, os.path.abspath(__file__), "--database", database or args.database,
            "--config", args.config, "--addons-path", args.addons_path, *extra]


def start_sender(args, database, k):
    return subprocess.Popen(me(args, "--worker", str(k), database=database),
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True)


def finish(proc):
    """Wait for a sender, print what it said, return (exit code, its run's start and end)."""
    out, _err = proc.communicate()
    span = None
    for line in out.splitlines():
        if line.startswith("SPAN "):
            span = tuple(float(x) for x in line.split()[1:])
        else:
            print(line, flush=True)
    return proc.returncode, span


def run_senders(args, n):
    db = copy_db(args, f"{args.database}_w{n}")
    print(f"{n} sender process(es) started at once on {db}:", flush=True)
    t0 = time.perf_counter()
    procs = [start_sender(args, db, k) for k in range(1, n + 1)]
    done = [finish(p) for p in procs]
    wall = time.perf_counter() - t0
    codes = [code for code, _span in done]
    spans = [span for _code, span in done if span]
    sending = max(s[1] for s in spans) - min(s[0] for s in spans) if spans else float("nan")
    print(f"  wall time with {n} sender process(es): {wall:.1f} s from start to last exit, "
          f"{sending:.1f} s from the first run's start to the last one's end (Odoo loaded; "
          f"exit codes {codes})", flush=True)
    ok = count(db) and not any(codes)
    drop_db(args, db)
    return ok, f"wall {wall:.1f} s, runs {sending:.1f} s"


def run_kill(args):
    db = copy_db(args, f"{args.database}_kill")
    print(f"kill -9: one sender on {db}, killed once some but not all were sent", flush=True)
    conn = connect(db)
    cur = conn.cursor()
    total = one(cur, "SELECT count(*) FROM dunning_communication WHERE state = 'scheduled'")
    proc = subprocess.Popen(me(args, "--worker", "1", database=db), stdin=subprocess.DEVNULL)
    while proc.poll() is None:
        if one(cur, "SELECT count(*) FROM dunning_communication WHERE state = 'sent'") >= \
                min(300, total // 3):
            break
        time.sleep(0.2)
    time.sleep(1.0)  # inside the next batch (100 per committed batch)
    if proc.poll() is not None:
        print(f"  the sender ended (exit {proc.returncode}) before it could be killed", flush=True)
        drop_db(args, db)
        return False
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    time.sleep(0.5)
    sent = one(cur, "SELECT count(*) FROM dunning_communication WHERE state = 'sent'")
    emails = one(cur, "SELECT count(*) FROM mail_message WHERE model = 'dunning.communication' "
                      "AND message_type = 'comment'")
    print(f"  killed (SIGKILL) pid {proc.pid} (exit {proc.returncode}): {sent} of {total} sent "
          f"and committed, {emails} e-mails; the batch in progress went with its connection",
          flush=True)
    conn.close()
    print("  started again (as bench_sender_2):", flush=True)
    code, _span = finish(start_sender(args, db, 2))
    ok = count(db) and not code and 0 < sent < total
    drop_db(args, db)
    return ok


def run_queue_job(args):
    import requests
    db = copy_db(args, f"{args.database}_qj")
    print(f"queue_job: {db}, installing queue_job and dunning_queue_job", flush=True)
    subprocess.run(me(args, "--odoo-bin", "--", "-i", "queue_job,dunning_queue_job",
                      "--stop-after-init", "--no-http", "--log-level=warn", database=db),
                   check=True, stdin=subprocess.DEVNULL)
    log_path = f"/tmp/{db}.log"
    with open(log_path, "w") as log:
        server = subprocess.Popen(
            me(args, "--odoo-bin", "--", "--workers=2", "--max-cron-threads=0",
               "--load=web,queue_job", f"--http-port={args.port}", "--http-interface=127.0.0.1",
               f"--gevent-port={args.port + 1}",
               "--log-level=info", f"--db-filter=^{db}$", database=db),
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            env=dict(os.environ, ODOO_QUEUE_JOB_CHANNELS="root:2,root.dunning:2"))
    wall = None
    try:
        for _i in range(180):
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"http://127.0.0.1:{args.port}/web/health", timeout=2).ok:
                    break
            time.sleep(1)
        else:
            sys.exit(f"the queue_job server did not answer on port {args.port} within 180 s "
                     f"(log {log_path})")
        print(f"  odoo-bin --workers=2 --max-cron-threads=0 --load=web,queue_job on port "
              f"{args.port}, ODOO_QUEUE_JOB_CHANNELS=root:2,root.dunning:2 (log {log_path})",
              flush=True)
        conn = connect(db)
        cur = conn.cursor()
        t0 = time.perf_counter()
        # the cron's method, once, from a process of its own: it plans, enqueues and commits
        code, _span = finish(start_sender(args, db, 1))
        if code:
            raise RuntimeError(f"the run that enqueues the jobs failed (exit {code})")
        cur.execute("SELECT channel, method_name, count(*) FROM queue_job GROUP BY 1, 2")
        print(f"  enqueued: {cur.fetchall()}", flush=True)
        while one(cur, "SELECT count(*) FROM queue_job WHERE state NOT IN "
                       "('done', 'failed', 'cancelled')"):
            if time.perf_counter() - t0 > args.timeout:
                print("  timed out waiting for the jobs", flush=True)
                break
            time.sleep(1)
        wall = time.perf_counter() - t0
        cur.execute("SELECT state, count(*) FROM queue_job GROUP BY 1")
        print(f"  jobs by state: {dict(cur.fetchall())}; wall time (run, enqueue, until no job "
              f"is left, 2 queue_job workers): {wall:.1f} s", flush=True)
        conn.close()
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    ok = count(db, who_sql=WHO_JOBS)
    drop_db(args, db)
    return ok, wall


def odoo_bin(args, rest):
    """odoo-bin with the senders' clock (its forked workers keep it)."""
    import logging
    from freezegun import freeze_time
    freeze_time(SENDERS_AT, tick=True).start()
    # the log formatter's clock is the frozen one, called as a function (not bound to it)
    logging.Formatter.converter = staticmethod(time.localtime)
    import odoo.cli
    # the real odoo-bin as argv[0]: with --workers, Odoo starts its websocket (gevent) process
    # as "python argv[0] gevent ..."; a name that does not exist there fails at once and is
    # started again in a loop, which took a core from the workers (queue_job's jobs ran at half
    # speed until this was found)
    import odoo.release
    odoo_bin_path = os.path.join(os.path.dirname(os.path.dirname(odoo.release.__file__)),
                                 "odoo-bin")
    sys.argv = [odoo_bin_path, "-c", args.config, f"--addons-path={args.addons_path}",
                "-d", args.database, *rest]
    odoo.cli.main()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", required=True)
    parser.add_argument("--config", required=True)
    parser.add_argument("--addons-path", required=True)
    parser.add_argument("--communications", type=int, default=2000)
    parser.add_argument("--workers", default="1,2,4", help="sender counts, comma separated")
    parser.add_argument("--no-kill", action="store_true", help="skip the kill -9 run")
    parser.add_argument("--queue-job", action="store_true",
                        help="also the run through queue_job (on the addons path)")
    parser.add_argument("--port", type=int, default=8094, help="HTTP port of the queue_job run")
    parser.add_argument("--timeout", type=int, default=1800)
    parser.add_argument("--keep", action="store_true", help="keep the run databases")
    parser.add_argument("--prepare", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--odoo-bin", action="store_true", help=argparse.SUPPRESS)
    args, rest = parser.parse_known_args()
    if args.prepare:
        return prepare(args)
    if args.worker:
        return worker(args)
    if args.odoo_bin:
        return odoo_bin(args, [a for a in rest if a != "--"])
    from odoo.tools import config
    config.parse_config(["-c", args.config])
    subprocess.run(me(args, "--prepare", "--communications", str(args.communications)),
                   check=True, stdin=subprocess.DEVNULL)
    results = []
    for n in [int(n) for n in args.workers.split(",")]:
        ok, times = run_senders(args, n)
        results.append((f"{n} sender process(es)", ok, times))
    if not args.no_kill:
        results.append(("kill -9 and restart", run_kill(args), ""))
    if args.queue_job:
        ok, wall = run_queue_job(args)
        results.append(("queue_job runner, 2 workers", ok,
                        f"wall {wall:.1f} s" if wall is not None else ""))
    print(f"summary ({args.communications} due communications, e-mail only):", flush=True)
    for name, ok, times in results:
        print(f"  {name:30} {'OK' if ok else 'NOT OK'}{', ' + times if times else ''}",
              flush=True)
    return 0 if all(ok for _n, ok, _w in results) else 1


if __name__ == "__main__":
    sys.exit(main())
