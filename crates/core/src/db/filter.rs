//! A `WHERE` clause built from the filters a request actually uses, so each query names only
//! its real conditions and the planner can use the matching index (a fixed
//! `($1 = '' OR col = $1)` shape defeats indexes on both engines).

use sqlx::any::AnyArguments;
use sqlx::query::{Query, QueryAs};
use sqlx::Any;

#[derive(Debug, Clone)]
enum Value {
    Text(String),
    Int(i64),
}

/// Limit (1–200, default 50) and offset (≥ 0) of a list page.
pub fn page(limit: Option<i64>, offset: Option<i64>) -> (i64, i64) {
    (
        limit.unwrap_or(50).clamp(1, 200),
        offset.unwrap_or(0).max(0),
    )
}

#[derive(Debug, Default, Clone)]
pub struct Filter {
    clauses: Vec<String>,
    values: Vec<Value>,
}

impl Filter {
    pub fn new() -> Self {
        Self::default()
    }

    fn next(&self) -> usize {
        self.values.len() + 1
    }

    /// Adds a condition; every `?` in `clause` becomes the next placeholder, bound to `value`.
    pub fn text(&mut self, clause: &str, value: impl Into<String>) -> &mut Self {
        let n = self.next();
        self.clauses.push(clause.replace('?', &format!("${n}")));
        self.values.push(Value::Text(value.into()));
        self
    }

    pub fn int(&mut self, clause: &str, value: i64) -> &mut Self {
        let n = self.next();
        self.clauses.push(clause.replace('?', &format!("${n}")));
        self.values.push(Value::Int(value));
        self
    }

    /// Adds a condition with no parameter (built only from values we produced ourselves).
    pub fn raw(&mut self, clause: impl Into<String>) -> &mut Self {
        self.clauses.push(clause.into());
        self
    }

    /// `WHERE a AND b …`, or nothing.
    pub fn sql(&self) -> String {
        if self.clauses.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", self.clauses.join(" AND "))
        }
    }

    /// The placeholder number the next parameter after the filter's own will get.
    pub fn next_placeholder(&self) -> usize {
        self.next()
    }

    pub fn bind_to<'q>(
        &self,
        mut q: Query<'q, Any, AnyArguments<'q>>,
    ) -> Query<'q, Any, AnyArguments<'q>> {
        for v in &self.values {
            q = match v {
                Value::Text(s) => q.bind(s.clone()),
                Value::Int(i) => q.bind(*i),
            };
        }
        q
    }

    pub fn bind_as<'q, O>(
        &self,
        mut q: QueryAs<'q, Any, O, AnyArguments<'q>>,
    ) -> QueryAs<'q, Any, O, AnyArguments<'q>> {
        for v in &self.values {
            q = match v {
                Value::Text(s) => q.bind(s.clone()),
                Value::Int(i) => q.bind(*i),
            };
        }
        q
    }
}

#[cfg(test)]
mod tests {
    use super::Filter;

    #[test]
    fn placeholders_are_numbered_in_order() {
        let mut f = Filter::new();
        f.text("(a = ? OR b = ?)", "x")
            .int("c = ?", 3)
            .raw("d IN (1,2)");
        assert_eq!(
            f.sql(),
            "WHERE (a = $1 OR b = $1) AND c = $2 AND d IN (1,2)"
        );
        assert_eq!(f.next_placeholder(), 3);
        assert_eq!(Filter::new().sql(), "");
    }
}
