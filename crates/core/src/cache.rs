//! `Snapshot<T>`: a read-mostly copy of a small table, trusted for a few seconds.
//!
//! For reference data that changes rarely (regions, frameworks). A write made through this
//! process calls [`Snapshot::invalidate`], so it is seen at once here; other instances see it
//! when their copy expires. Nothing that must be exact across instances (sessions, uniqueness,
//! counters) belongs in one.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use crate::error::Result;

pub struct Snapshot<T> {
    ttl: Duration,
    inner: RwLock<Option<(Instant, Arc<T>)>>,
}

/// Reference data is trusted for two seconds unless a type says otherwise.
impl<T> Default for Snapshot<T> {
    fn default() -> Self {
        Snapshot::new(Duration::from_secs(2))
    }
}

impl<T> Snapshot<T> {
    pub fn new(ttl: Duration) -> Self {
        Snapshot {
            ttl,
            inner: RwLock::new(None),
        }
    }

    /// The current copy, loading a fresh one when it is missing or older than the TTL.
    pub async fn get<F, Fut>(&self, load: F) -> Result<Arc<T>>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        if let Ok(guard) = self.inner.read() {
            if let Some((at, value)) = guard.as_ref() {
                if at.elapsed() < self.ttl {
                    return Ok(value.clone());
                }
            }
        }
        let fresh = Arc::new(load().await?);
        if let Ok(mut guard) = self.inner.write() {
            *guard = Some((Instant::now(), fresh.clone()));
        }
        Ok(fresh)
    }

    pub fn invalidate(&self) {
        if let Ok(mut guard) = self.inner.write() {
            *guard = None;
        }
    }
}

/// One application's caches of features' reference data, each made on first use: a feature
/// keeps its own cache type here (one per type) without core knowing it.
#[derive(Default)]
pub struct Caches(Mutex<HashMap<TypeId, Arc<dyn Any + Send + Sync>>>);

impl Caches {
    /// This application's `T`, made with `T::default()` the first time it is asked for.
    pub fn get<T: Default + Send + Sync + 'static>(&self) -> Arc<T> {
        let mut map = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let entry = map
            .entry(TypeId::of::<T>())
            .or_insert_with(|| Arc::new(T::default()));
        // Entries are keyed by their own type, so the downcast cannot miss.
        entry.clone().downcast::<T>().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_type_has_one_cache_per_application() {
        let caches = Caches::default();
        let a = caches.get::<Snapshot<u8>>();
        let b = caches.get::<Snapshot<u8>>();
        assert!(Arc::ptr_eq(&a, &b));
        let other = Caches::default();
        assert!(!Arc::ptr_eq(&a, &other.get::<Snapshot<u8>>()));
    }

    #[tokio::test]
    async fn a_copy_is_reused_until_invalidated() {
        let snap = Snapshot::new(Duration::from_secs(60));
        let first = snap.get(|| async { Ok(1) }).await.unwrap();
        let again = snap.get(|| async { Ok(2) }).await.unwrap();
        assert_eq!((*first, *again), (1, 1));
        snap.invalidate();
        assert_eq!(*snap.get(|| async { Ok(3) }).await.unwrap(), 3);
    }

    #[tokio::test]
    async fn an_expired_copy_is_reloaded() {
        let snap = Snapshot::new(Duration::from_millis(0));
        snap.get(|| async { Ok(1) }).await.unwrap();
        assert_eq!(*snap.get(|| async { Ok(2) }).await.unwrap(), 2);
    }
}
