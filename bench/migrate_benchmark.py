"""migrate_schemas over every cooperative: a no-op run, and a migration adding a
column to the ledger (ebok_ledger_entry).

    .venv/bin/python bench/migrate_benchmark.py --executor standard
    .venv/bin/python bench/migrate_benchmark.py --executor multiprocessing --processes 2
    .venv/bin/python bench/migrate_benchmark.py --executor multiprocessing --add-column

Runs ``manage.py migrate_schemas --tenant`` as operators do, against the database
made by bench/tenants_benchmark.py (all its cooperatives plus the template). The
add-column migration lives in a throwaway app generated in a temporary folder;
afterwards the column and its migration records are removed with plain SQL, so
the database is as before and the repository never sees the migration.
"""

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import ROOT, database_url, report, setup_django, timed  # noqa: E402

APP = "bench_ledger_column"
COLUMN = "bench_note"
MIGRATION = """from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("ebok", "{ebok_leaf}")]
    operations = [
        migrations.RunSQL(
            "ALTER TABLE ebok_ledger_entry ADD COLUMN {column} varchar(40) NULL",
            "ALTER TABLE ebok_ledger_entry DROP COLUMN {column}",
        )
    ]
"""

REMOVE_COLUMN_SQL = """
DO $$
DECLARE schema text;
BEGIN
  FOR schema IN SELECT table_schema FROM information_schema.columns
                WHERE table_name = 'ebok_ledger_entry' AND column_name = '{column}' LOOP
    EXECUTE format('ALTER TABLE %I.ebok_ledger_entry DROP COLUMN {column}', schema);
    EXECUTE format('DELETE FROM %I.django_migrations WHERE app = %L', schema, '{app}');
  END LOOP;
END $$;
"""


def ebok_leaf() -> str:
    from django.db.migrations.loader import MigrationLoader

    leaves = MigrationLoader(None, ignore_no_migrations=True).graph.leaf_nodes("ebok")
    return leaves[0][1]


def write_throwaway_app(folder: Path) -> None:
    migrations = folder / APP / "migrations"
    migrations.mkdir(parents=True)
    (folder / APP / "__init__.py").write_text("")
    (migrations / "__init__.py").write_text("")
    (migrations / "0001_ledger_column.py").write_text(
        MIGRATION.format(ebok_leaf=ebok_leaf(), column=COLUMN)
    )


def schemas_with_column() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid"
            " WHERE c.relname = 'ebok_ledger_entry' AND a.attname = %s AND NOT a.attisdropped",
            [COLUMN],
        )
        return cursor.fetchone()[0]


def remove_column() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(REMOVE_COLUMN_SQL.format(column=COLUMN, app=APP))


def migrate(url: str, executor: str, processes: int, extra_path: str | None) -> float:
    env = dict(
        os.environ,
        DATABASE_URL=url,
        DJANGO_SETTINGS_MODULE="bench.migrate_settings",
        BENCH_PROCESSES=str(processes),
        BENCH_CHUNKS=str(processes),
        LOG_LEVEL="WARNING",
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), extra_path])),
    )
    if extra_path:
        env["BENCH_TENANT_APP"] = APP
    command = [sys.executable, "manage.py", "migrate_schemas", "--tenant", "--noinput"]
    command += ["--executor", executor, "-v", "0"]
    with timed() as elapsed:
        subprocess.run(command, cwd=ROOT, env=env, check=True)
    return elapsed()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--executor", choices=["standard", "multiprocessing"], default="standard")
    parser.add_argument("--processes", type=int, default=2, help="multiprocessing workers")
    parser.add_argument("--add-column", action="store_true", help="run the throwaway migration")
    parser.add_argument("--database-url", help="dedicated database (default ebok_scale)")
    args = parser.parse_args()

    url = database_url(args.database_url)
    setup_django(url)
    from tenants import selectors

    tenants = selectors.cooperatives().count()
    processes = args.processes if args.executor == "multiprocessing" else 1
    result = {"executor": args.executor, "processes": processes, "cooperatives": tenants}
    if args.add_column:
        remove_column()  # a previous run that died half-way
        with tempfile.TemporaryDirectory(prefix="bench-migration-") as folder:
            write_throwaway_app(Path(folder))
            seconds = migrate(url, args.executor, processes, folder)
        result["schemas_with_new_column"] = schemas_with_column()
        remove_column()
        result["column_removed_afterwards"] = schemas_with_column() == 0
        name = f"migrate-add-column-{args.executor}-{processes}"
    else:
        seconds = migrate(url, args.executor, processes, None)
        name = f"migrate-noop-{args.executor}-{processes}"
    result["seconds"] = round(seconds, 1)
    result["ms_per_schema"] = round(seconds / (tenants + 1) * 1000, 1)  # + the template
    report(name, result)


if __name__ == "__main__":
    main()
