"""Reference for `xietong bench indicators`: DuckDB's full aggregation of the same generated
values and activities (read from the CSV files the bench writes), median of five runs.

Usage: python3 scripts/duckdb_reference.py VALUES.csv ACTIVITIES.csv AS_OF
Prints the median in milliseconds. Loading the files is not timed; the aggregation is."""

import statistics
import sys
import time

import duckdb

values_csv, activities_csv, as_of = sys.argv[1], sys.argv[2], sys.argv[3]
con = duckdb.connect()
con.execute(f"CREATE TABLE v AS SELECT * FROM read_csv_auto('{values_csv}')")
con.execute(f"CREATE TABLE a AS SELECT * FROM read_csv_auto('{activities_csv}')")
query = f"""
SELECT pairing_id, indicator_id, SUM(amount) FROM (
  SELECT pairing_id, indicator_id, amount FROM v WHERE period_end <= DATE '{as_of}'
  UNION ALL
  SELECT pairing_id, indicator_id, amount FROM a WHERE occurred_on <= DATE '{as_of}'
) GROUP BY pairing_id, indicator_id
"""
times = []
for _ in range(5):
    t = time.perf_counter()
    con.execute(query).fetchall()
    times.append((time.perf_counter() - t) * 1000)
print(f"{statistics.median(times):.1f}")
