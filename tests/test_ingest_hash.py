"""The fast row hash equals DuckDB's ``md5_number_lower``, the hash stored by every version
(a store written before must see the same rows as duplicates, not conflicts)."""

import duckdb

from mashdemand.ingest.parsing import HASH64_SQL


def test_hash64_equals_md5_number_lower():
    con = duckdb.connect()
    same, n = con.execute(
        f"""
        SELECT count(*) FILTER (WHERE {HASH64_SQL.format(x="v")} = md5_number_lower(v)),
               count(*)
        FROM (SELECT concat_ws(chr(31), 'id-' || i, repeat('x', i % 97), chr(1)) AS v
              FROM range(200000) t(i)
              UNION ALL SELECT '' UNION ALL SELECT 'é' || chr(31))
        """
    ).fetchone()
    assert n == 200_002
    assert same == n
    assert con.execute(f"SELECT {HASH64_SQL.format(x='NULL')}").fetchone()[0] is None
