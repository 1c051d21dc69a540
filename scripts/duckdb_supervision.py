"""Reference for `xietong bench supervision`: DuckDB's full aggregation of the same generated
tasks, projects (with their plan and responsible unit) and monthly investment reports, read
from the CSV files the bench writes: every framework-year's figures the report card shows —
tasks by area and status, tasks due and closed on time, projects by stage and added or not with
their planned investment, completed investment up to the as-of month, and the per-unit counts —
median of five runs.

Usage: python3 scripts/duckdb_supervision.py DIR AS_OF
Prints the median in milliseconds. Loading the files is not timed; the aggregation is."""

import os
import statistics
import sys
import time

import duckdb

folder, as_of = sys.argv[1], sys.argv[2]
con = duckdb.connect()
for name in ("tasks", "projects", "monthly"):
    path = os.path.join(folder, f"{name}.csv")
    con.execute(f"CREATE TABLE {name} AS SELECT * FROM read_csv_auto('{path}')")
month = as_of[:7]
queries = [
    "SELECT framework_id, year, area, status, COUNT(*) FROM tasks GROUP BY ALL",
    f"""SELECT framework_id, year,
               COUNT(*) FILTER (WHERE deadline <= DATE '{as_of}'),
               COUNT(*) FILTER (WHERE deadline <= DATE '{as_of}' AND resolution = 'closed')
          FROM tasks GROUP BY ALL""",
    """SELECT framework_id, plan_year, stage, COALESCE(added_in_year = plan_year, false),
              COUNT(*), SUM(planned_fen)
         FROM projects GROUP BY ALL""",
    f"""SELECT p.framework_id, p.plan_year, SUM(m.completed_fen)
          FROM monthly m JOIN projects p ON p.id = m.project_id
         WHERE m.month >= CAST(p.plan_year AS VARCHAR) || '-01'
           AND m.month <= LEAST(CAST(p.plan_year AS VARCHAR) || '-12', '{month}')
         GROUP BY ALL""",
    """SELECT framework_id, year, org_id, SUM(t), SUM(p) FROM (
           SELECT framework_id, year, lead_org_id AS org_id, 1 AS t, 0 AS p FROM tasks
           UNION ALL
           SELECT framework_id, plan_year, org_id, 0, 1 FROM projects
       ) GROUP BY ALL""",
]
times = []
for _ in range(5):
    t = time.perf_counter()
    for q in queries:
        con.execute(q).fetchall()
    times.append((time.perf_counter() - t) * 1000)
print(f"{statistics.median(times):.1f}")
