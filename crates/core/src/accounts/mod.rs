//! Accounts: users and their roles, sessions, API tokens, and slowing down password guessing.

pub mod password;
pub mod sessions;
pub mod users;

use rand::RngCore;
use sha2::{Digest, Sha256};

/// A fresh random secret, URL-safe hex, 256 bits.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// What is stored for a secret: its SHA-256. Secrets are random, so no salt or slow hash is needed.
pub fn secret_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}
