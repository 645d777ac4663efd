//! The signed link by which a supplier confirms an order without an
//! account: `<public_url>/supplier/confirm/<token>`, where the token is
//! `<order id>.<expiry, unix seconds>.<HMAC-SHA256>` over the purpose
//! ("confirm an order"), the order and the expiry, keyed by a random key
//! this installation keeps in its database (so links survive a restore and
//! die with a new installation). One link is good for one order and one
//! action until it expires; anything altered fails the HMAC.

use hmac::{Hmac, Mac};
use rusqlite::{OptionalExtension, Transaction, params};
use sha2::Sha256;

use crate::config::Config;
use crate::db::{Cached, Db};
use crate::domain::Timestamp;

/// How long a link works: long enough for a back-ordered delivery.
pub const VALID_DAYS: i64 = 60;

const KEY_SETTING: &str = "links.signing_key";

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    #[error("This link is not complete: check that it was copied whole from the email.")]
    Malformed,
    #[error("This link is not valid: it was changed or was not issued by this practice.")]
    Forged,
    #[error("This link has expired. Please confirm the order by replying to the practice's email.")]
    Expired,
}

fn mac(key: &[u8], order_id: i64, expires: i64) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("any key length");
    mac.update(format!("confirm-order:{order_id}:{expires}").as_bytes());
    mac
}

/// The token for `order_id`, good until `expires` (unix seconds).
pub fn token(key: &[u8], order_id: i64, expires: i64) -> String {
    let sig = mac(key, order_id, expires).finalize().into_bytes();
    format!(
        "{order_id}.{expires}.{}",
        data_encoding::BASE64URL_NOPAD.encode(&sig)
    )
}

/// The order a token is for, if it is genuine and not expired at `now`.
pub fn check(key: &[u8], token: &str, now: i64) -> Result<i64, LinkError> {
    let mut parts = token.split('.');
    let (Some(id), Some(expires), Some(sig), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(LinkError::Malformed);
    };
    let (Ok(id), Ok(expires)) = (id.parse::<i64>(), expires.parse::<i64>()) else {
        return Err(LinkError::Malformed);
    };
    let sig = data_encoding::BASE64URL_NOPAD
        .decode(sig.as_bytes())
        .map_err(|_| LinkError::Malformed)?;
    mac(key, id, expires)
        .verify_slice(&sig)
        .map_err(|_| LinkError::Forged)?;
    if now > expires {
        return Err(LinkError::Expired);
    }
    Ok(id)
}

/// This installation's signing key, made on first use.
pub fn signing_key(tx: &Transaction, now: Timestamp) -> rusqlite::Result<Vec<u8>> {
    let existing: Option<String> = tx
        .row_cached(
            "SELECT value FROM settings WHERE key = ?1",
            [KEY_SETTING],
            |r| r.get(0),
        )
        .optional()?;
    let key = match existing {
        Some(k) => k,
        None => {
            let k = crate::crypto::random_token(32);
            tx.exec_cached(
                "INSERT INTO settings (key, value, updated_at) VALUES (?1, ?2, ?3)",
                params![KEY_SETTING, k, now.to_db()],
            )?;
            k
        }
    };
    Ok(key.into_bytes())
}

/// Reads the key (for checking a link: never creates one).
pub fn existing_key(conn: &rusqlite::Connection) -> rusqlite::Result<Option<Vec<u8>>> {
    conn.row_cached(
        "SELECT value FROM settings WHERE key = ?1",
        [KEY_SETTING],
        |r| r.get::<_, String>(0),
    )
    .optional()
    .map(|k| k.map(String::into_bytes))
}

/// The link for an order being sent now; none without `public_url` (a
/// supplier could not reach the practice's machine by any other name).
pub async fn link_for(db: &Db, config: &Config, order_id: i64, now: Timestamp) -> Option<String> {
    let base = config
        .public_url
        .as_ref()?
        .trim_end_matches('/')
        .to_string();
    // Read first: only the very first link of an installation writes.
    let key = match db
        .read(|c| existing_key(c).map_err(crate::db::DbError::from))
        .await
    {
        Ok(Some(key)) => Ok(key),
        _ => {
            db.write(move |tx| signing_key(tx, now).map_err(crate::db::DbError::from))
                .await
        }
    }
    .map_err(|e| tracing::warn!(error = %e, "cannot read the link signing key; the order goes without a confirmation link"))
    .ok()?;
    let expires = now.datetime().unix_timestamp() + VALID_DAYS * 86_400;
    Some(format!(
        "{base}/supplier/confirm/{}",
        token(&key, order_id, expires)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"0123456789abcdef0123456789abcdef";

    #[test]
    fn a_genuine_link_names_its_order_until_it_expires() {
        let t = token(KEY, 42, 1_000);
        assert_eq!(check(KEY, &t, 999), Ok(42));
        assert_eq!(check(KEY, &t, 1_000), Ok(42));
        assert_eq!(check(KEY, &t, 1_001), Err(LinkError::Expired));
    }

    #[test]
    fn an_altered_or_foreign_link_is_refused() {
        let t = token(KEY, 42, 1_000);
        let other_order = t.replacen("42.", "43.", 1);
        assert_eq!(check(KEY, &other_order, 0), Err(LinkError::Forged));
        let later = t.replacen(".1000.", ".9000.", 1);
        assert_eq!(check(KEY, &later, 0), Err(LinkError::Forged));
        assert_eq!(
            check(b"another installation's key.....", &t, 0),
            Err(LinkError::Forged)
        );
        for bad in [
            "",
            "42",
            "42.1000",
            "x.1000.abc",
            "42.1000.!!",
            "42.1000.abc.d",
        ] {
            assert_eq!(check(KEY, bad, 0), Err(LinkError::Malformed), "{bad:?}");
        }
    }
}
