"""Check Athena (engine v3, Trino) SQL files against a Glue schema.

Usage: check_athena_sql.py [--parse-only] SCHEMA.json FILE.sql [FILE.sql ...]
SCHEMA.json maps table name -> {column name: Glue type}, partition keys
included (or database -> table -> columns, for SQL that names the database).
Each file must parse as Athena SQL, and every table and column it names must
resolve in the schema (sqlglot's qualify, with validation on). With
--parse-only, only the parse: for SQL whose names sqlglot cannot resolve,
such as the measures of a MATCH_RECOGNIZE.
Prints one line per file; exits 1 on the first problem, naming file and cause.
This checks syntax and names, not semantics: only Athena runs the query.
"""
import json
import sys

import sqlglot
from sqlglot.errors import SqlglotError
from sqlglot.optimizer.qualify import qualify


def check(path: str, schema: dict, parse_only: bool) -> None:
    with open(path, encoding="utf-8") as handle:
        sql = handle.read()
    tree = sqlglot.parse_one(sql, read="athena", error_level=sqlglot.ErrorLevel.RAISE)
    if not parse_only:
        qualify(tree, schema=schema, dialect="athena", validate_qualify_columns=True)


def main(argv: list[str]) -> int:
    parse_only = argv[:1] == ["--parse-only"]
    if parse_only:
        argv = argv[1:]
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[0], encoding="utf-8") as handle:
        schema = json.load(handle)
    for path in argv[1:]:
        try:
            check(path, schema, parse_only)
        except (SqlglotError, KeyError) as error:
            print(f"{path}: {type(error).__name__}: {error}", file=sys.stderr)
            return 1
        print(f"{path}: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
