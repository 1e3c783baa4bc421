//! Person keys: the opaque name a resident ID number is stored and indexed under
//! (`person#{key}`, `cover#{key}`). A key is HMAC-SHA256 of the number under a secret, so that
//! knowing the scheme and enumerating birth dates recovers nothing: without the secret a key
//! cannot be computed from a number, nor a number found from a key. Keys never leave the server.
//!
//! The secret is 32 random bytes: `person.key` beside `token.key` in the embedded data directory
//! (mode 0600, created on first use), a Secrets Manager secret in AWS. Losing it loses the index
//! from numbers to records (the records themselves keep the number), so it is backed up with the
//! store; rotating it means re-keying every `person#`/`cover#` key with a job, never in place.

use std::path::Path;

use hmac::{Hmac, Mac};
use swi_rules::ids::ResidentId;

/// Computes person keys.
#[derive(Clone)]
pub struct PersonKeys {
    mac: Hmac<sha2::Sha256>,
}

impl std::fmt::Debug for PersonKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PersonKeys(…)")
    }
}

/// The fewest bytes a secret may have.
pub const MIN_SECRET_BYTES: usize = 32;

impl PersonKeys {
    /// Keys under `secret`.
    ///
    /// # Errors
    /// A secret shorter than [`MIN_SECRET_BYTES`].
    pub fn from_secret(secret: &[u8]) -> Result<Self, String> {
        if secret.len() < MIN_SECRET_BYTES {
            return Err(format!(
                "the person-key secret must have at least {MIN_SECRET_BYTES} bytes"
            ));
        }
        let mac = Hmac::<sha2::Sha256>::new_from_slice(secret).map_err(|e| e.to_string())?;
        Ok(PersonKeys { mac })
    }

    /// The keys of a data directory: `person.key`, created on first use.
    ///
    /// # Errors
    /// The key cannot be read or created.
    pub fn local(data_dir: &Path) -> std::io::Result<Self> {
        let secret = crate::auth::local_secret(data_dir, "person.key")?;
        Self::from_secret(&secret).map_err(std::io::Error::other)
    }

    /// The key of a resident ID number: 32 hex digits.
    #[must_use]
    pub fn of(&self, id: &ResidentId) -> String {
        let mut mac = self.mac.clone();
        mac.update(id.expose().as_bytes());
        hex::encode(&mac.finalize().into_bytes()[..16])
    }

    /// The key of a bank account number (its digits): 32 hex digits under the same secret, kept
    /// apart from persons' keys. How payees sharing an account are found without the number
    /// appearing in a key.
    #[must_use]
    pub fn of_account(&self, digits: &str) -> String {
        let mut mac = self.mac.clone();
        mac.update(b"bank-account\0");
        mac.update(digits.as_bytes());
        hex::encode(&mac.finalize().into_bytes()[..16])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_depends_on_the_secret_not_only_on_the_number() {
        let id = ResidentId::parse("11010519491231002X").unwrap();
        let a = PersonKeys::from_secret(&[1; 32]).unwrap();
        let b = PersonKeys::from_secret(&[2; 32]).unwrap();
        assert_eq!(a.of(&id), a.of(&id));
        assert_ne!(a.of(&id), b.of(&id));
        // Not the unsalted hash an attacker could compute from the number alone.
        use sha2::Digest;
        let plain = hex::encode(&sha2::Sha256::digest(id.expose().as_bytes())[..16]);
        assert_ne!(a.of(&id), plain);
        assert!(PersonKeys::from_secret(&[1; 16]).is_err());
    }
}
