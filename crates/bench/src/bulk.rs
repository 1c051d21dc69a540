//! Bulk inserts of generated rows, in chunks both engines accept (under 30,000 parameters).

use sqlx::AnyConnection;

/// One value of a generated row.
#[derive(Debug, Clone)]
pub enum V {
    I(i64),
    T(String),
    N,
}

pub async fn insert(conn: &mut AnyConnection, head: &str, rows: &[Vec<V>]) -> Result<(), String> {
    let Some(first) = rows.first() else {
        return Ok(());
    };
    let columns = first.len();
    let per_chunk = xietong_core::db::rows_per_statement(columns);
    let text_columns: Vec<bool> = (0..columns)
        .map(|c| rows.iter().any(|r| matches!(r.get(c), Some(V::T(_)))))
        .collect();
    for chunk in rows.chunks(per_chunk) {
        let mut sql = String::with_capacity(head.len() + chunk.len() * columns * 6);
        sql.push_str(head);
        let mut n = 0;
        for (i, _) in chunk.iter().enumerate() {
            sql.push_str(if i == 0 { " (" } else { ", (" });
            for c in 0..columns {
                n += 1;
                if c > 0 {
                    sql.push_str(", ");
                }
                sql.push('$');
                sql.push_str(&n.to_string());
            }
            sql.push(')');
        }
        let mut q = sqlx::query(&sql);
        for row in chunk {
            for (c, v) in row.iter().enumerate() {
                q = match v {
                    V::I(i) => q.bind(*i),
                    V::T(s) => q.bind(s.clone()),
                    // A NULL takes its column's type: PostgreSQL keeps the parameter types of a
                    // prepared statement, which the next chunk reuses.
                    V::N if text_columns[c] => q.bind(None::<String>),
                    V::N => q.bind(None::<i64>),
                };
            }
        }
        q.execute(&mut *conn).await.map_err(|e| e.to_string())?;
    }
    Ok(())
}
