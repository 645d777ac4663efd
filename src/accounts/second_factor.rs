//! The second factor at sign-in: a TOTP authenticator app (RFC 6238: six
//! digits, 30-second steps, HMAC-SHA-1, one step of clock drift either
//! way) and ten one-time recovery codes.
//!
//! - A code is accepted once: the last accepted step is stored, and a code
//!   for that step or an earlier one is refused (RFC 6238 §5.2).
//! - Recovery codes are random (60 bits), shown once, and stored as
//!   argon2id hashes; each works once.
//! - Between the password and the code a sign-in is a *challenge*: a row
//!   named by the SHA-256 of a random cookie, good for ten minutes and five
//!   wrong codes. It is not a session: it opens no page but the code's.
//!
//! Hashing is slow, so callers generate and hash recovery codes (and check
//! one) outside the write transaction, as with passwords.

use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, Transaction, params};
use totp_rs::{Builder, Totp};

use super::hashing;
use super::users::{USER_COLUMNS, User, map_user};
use crate::audit::{self, Context, Event};
use crate::config::SecondFactorPolicy;
use crate::crypto::{random_token, sha256_hex};
use crate::db::Cached;
use crate::domain::{Role, Timestamp};

/// Seconds per TOTP step.
pub const STEP_SECONDS: u64 = 30;
/// Recovery codes handed out at a time.
pub const RECOVERY_CODES: usize = 10;
/// How long a half-done sign-in waits for its code.
pub const CHALLENGE_LIFETIME: Duration = Duration::from_secs(10 * 60);
/// Wrong codes one half-done sign-in may take before it ends.
pub const CHALLENGE_ATTEMPTS: u32 = 5;
/// Issuer shown in the authenticator app.
pub const ISSUER: &str = "stockroom";

/// Recovery codes use Crockford's base32 alphabet (no i, l, o or u), so
/// they can be read aloud and typed without confusing letters and digits.
const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
const RECOVERY_LENGTH: usize = 12;

/// A user's second factor as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    /// None set up.
    None,
    /// A secret was shown but not yet confirmed with a code.
    SettingUp,
    /// In use, with this many recovery codes left.
    Active { recovery_left: usize },
}

impl State {
    pub fn is_active(&self) -> bool {
        matches!(self, State::Active { .. })
    }
}

pub fn state(conn: &Connection, user_id: i64) -> rusqlite::Result<State> {
    let confirmed: Option<Option<String>> = conn
        .row_cached(
            "SELECT confirmed_at FROM second_factors WHERE user_id = ?1",
            [user_id],
            |r| r.get(0),
        )
        .optional()?;
    Ok(match confirmed {
        None => State::None,
        Some(None) => State::SettingUp,
        Some(Some(_)) => {
            let left: i64 = conn.row_cached(
                "SELECT COUNT(*) FROM recovery_codes WHERE user_id = ?1 AND used_at IS NULL",
                [user_id],
                |r| r.get(0),
            )?;
            State::Active {
                recovery_left: usize::try_from(left).unwrap_or(0),
            }
        }
    })
}

/// What a user needs to add stockroom to their authenticator app.
#[derive(Debug, Clone)]
pub struct Enrolment {
    /// The secret in base32, for typing in by hand.
    pub secret: String,
    /// The `otpauth://` address the QR code carries.
    pub url: String,
}

impl Enrolment {
    /// The secret in groups of four, as apps show it.
    pub fn secret_grouped(&self) -> String {
        self.secret
            .as_bytes()
            .chunks(4)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

fn totp(secret: &[u8], username: &str) -> Totp {
    Builder::new()
        .with_secret(secret.to_vec())
        .with_account_name(username.replace(':', "."))
        .with_issuer(Some(ISSUER))
        .build()
        .expect("a 160-bit secret and a colon-free name make a valid TOTP")
}

fn decode(secret: &str) -> Option<Vec<u8>> {
    data_encoding::BASE32_NOPAD.decode(secret.as_bytes()).ok()
}

/// Starts (or resumes) setting up an authenticator for `user`: the same
/// secret is shown until it is confirmed, so reloading the page does not
/// invalidate a code already scanned. `None` when one is already in use.
pub fn begin(tx: &Transaction, user: &User, now: Timestamp) -> rusqlite::Result<Option<Enrolment>> {
    let existing: Option<(String, Option<String>)> = tx
        .row_cached(
            "SELECT secret, confirmed_at FROM second_factors WHERE user_id = ?1",
            [user.id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let secret = match existing {
        Some((_, Some(_))) => return Ok(None),
        Some((secret, None)) => secret,
        None => {
            let mut bytes = [0u8; 20];
            getrandom::fill(&mut bytes).expect("the operating system's random source works");
            let secret = data_encoding::BASE32_NOPAD.encode(&bytes);
            tx.exec_cached(
                "INSERT INTO second_factors (user_id, secret, created_at) VALUES (?1, ?2, ?3)",
                params![user.id, secret, now.to_db()],
            )?;
            secret
        }
    };
    let bytes = decode(&secret).unwrap_or_default();
    let url = totp(&bytes, &user.username)
        .to_url()
        .unwrap_or_else(|_| String::new());
    Ok(Some(Enrolment { secret, url }))
}

/// The TOTP step a code proves, if `code` is valid for `secret` at `now`.
fn matching_step(secret: &[u8], code: &str, now: Timestamp) -> Option<u64> {
    let unix = u64::try_from(now.datetime().unix_timestamp()).ok()?;
    totp(secret, "-").check(code, unix)
}

/// Six digits, with spaces allowed between them.
fn as_totp_code(typed: &str) -> Option<String> {
    let digits: String = typed.chars().filter(|c| !c.is_whitespace()).collect();
    (digits.len() == 6 && digits.bytes().all(|b| b.is_ascii_digit())).then_some(digits)
}

/// A recovery code as typed, normalised: case, spaces and dashes ignored,
/// and the letters people mistake for digits read as those digits.
pub fn as_recovery_code(typed: &str) -> Option<String> {
    let code: String = typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| match c.to_ascii_lowercase() {
            'o' => '0',
            'i' | 'l' => '1',
            c => c,
        })
        .collect();
    (code.len() == RECOVERY_LENGTH && code.bytes().all(|b| ALPHABET.contains(&b))).then_some(code)
}

/// Checks a six-digit code against the user's secret — the confirmed one,
/// or with `setting_up` the one being set up — and records its step so
/// it cannot be used again. False for a wrong, reused or malformed code.
fn accept_code(
    tx: &Transaction,
    user_id: i64,
    typed: &str,
    now: Timestamp,
    setting_up: bool,
) -> rusqlite::Result<bool> {
    let Some(code) = as_totp_code(typed) else {
        return Ok(false);
    };
    let row: Option<(String, i64)> = tx
        .row_cached(
            if setting_up {
                "SELECT secret, last_step FROM second_factors WHERE user_id = ?1 AND confirmed_at IS NULL"
            } else {
                "SELECT secret, last_step FROM second_factors WHERE user_id = ?1 AND confirmed_at IS NOT NULL"
            },
            [user_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let Some((secret, last_step)) = row else {
        return Ok(false);
    };
    let Some(bytes) = decode(&secret) else {
        return Ok(false);
    };
    let Some(step) = matching_step(&bytes, &code, now) else {
        return Ok(false);
    };
    let step = i64::try_from(step).unwrap_or(i64::MAX);
    if step <= last_step {
        return Ok(false);
    }
    tx.exec_cached(
        "UPDATE second_factors SET last_step = ?1 WHERE user_id = ?2",
        params![step, user_id],
    )?;
    Ok(true)
}

/// Fresh recovery codes: the plain codes to show once, and their hashes to
/// store. Slow (argon2id): call it off the writer.
pub fn generate_recovery_codes() -> (Vec<String>, Vec<String>) {
    let codes: Vec<String> = (0..RECOVERY_CODES)
        .map(|_| {
            let mut bytes = [0u8; RECOVERY_LENGTH];
            getrandom::fill(&mut bytes).expect("the operating system's random source works");
            bytes
                .iter()
                .map(|b| ALPHABET[usize::from(b % 32)] as char)
                .collect()
        })
        .collect();
    let hashes = codes.iter().map(|c| hashing::hash_secret(c)).collect();
    (
        codes.iter().map(|c| display_recovery_code(c)).collect(),
        hashes,
    )
}

/// `abcd-efgh-jkmn`: a recovery code as shown.
fn display_recovery_code(code: &str) -> String {
    code.as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join("-")
}

fn store_recovery_codes(
    tx: &Transaction,
    user_id: i64,
    hashes: &[String],
    now: Timestamp,
) -> rusqlite::Result<()> {
    tx.exec_cached("DELETE FROM recovery_codes WHERE user_id = ?1", [user_id])?;
    for h in hashes {
        tx.exec_cached(
            "INSERT INTO recovery_codes (user_id, code_hash, created_at) VALUES (?1, ?2, ?3)",
            params![user_id, h, now.to_db()],
        )?;
    }
    Ok(())
}

/// Finishes setting up: true when `code` proves the user's app has the
/// secret; the authenticator is then in use and `recovery_hashes` (from
/// [`generate_recovery_codes`]) replace any earlier codes. Audited.
pub fn confirm(
    tx: &Transaction,
    ctx: &Context,
    user_id: i64,
    code: &str,
    recovery_hashes: &[String],
) -> rusqlite::Result<bool> {
    if !accept_code(tx, user_id, code, ctx.at, true)? {
        return Ok(false);
    }
    tx.exec_cached(
        "UPDATE second_factors SET confirmed_at = ?1 WHERE user_id = ?2",
        params![ctx.at.to_db(), user_id],
    )?;
    store_recovery_codes(tx, user_id, recovery_hashes, ctx.at)?;
    audit::record(
        tx,
        ctx,
        Event::new("auth.second_factor_enrolled", "user", user_id)
            .after(serde_json::json!({ "recovery_codes": recovery_hashes.len() })),
    )?;
    Ok(true)
}

/// Replaces a user's recovery codes (the old ones stop working). Audited.
pub fn replace_recovery_codes(
    tx: &Transaction,
    ctx: &Context,
    user_id: i64,
    hashes: &[String],
) -> rusqlite::Result<()> {
    store_recovery_codes(tx, user_id, hashes, ctx.at)?;
    audit::record(
        tx,
        ctx,
        Event::new("auth.recovery_codes_replaced", "user", user_id),
    )?;
    Ok(())
}

/// How a sign-in's second step was passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proof {
    /// A code from the authenticator app.
    Code,
    /// A recovery code; this many are left.
    RecoveryCode { left: usize },
}

impl Proof {
    pub fn as_str(self) -> &'static str {
        match self {
            Proof::Code => "authenticator",
            Proof::RecoveryCode { .. } => "recovery_code",
        }
    }
}

/// The unused recovery codes' ids and hashes, for [`find_recovery_code`].
pub fn unused_recovery_codes(
    conn: &Connection,
    user_id: i64,
) -> rusqlite::Result<Vec<(i64, String)>> {
    conn.prepare_cached(
        "SELECT id, code_hash FROM recovery_codes WHERE user_id = ?1 AND used_at IS NULL ORDER BY id",
    )?
    .query_map([user_id], |r| Ok((r.get(0)?, r.get(1)?)))?
    .collect()
}

/// Which of `unused` the typed text is, if any. Slow (argon2id per code):
/// call it off the writer.
pub fn find_recovery_code(typed: &str, unused: &[(i64, String)]) -> Option<i64> {
    let code = as_recovery_code(typed)?;
    unused
        .iter()
        .find(|(_, hash)| hashing::verify(&code, hash))
        .map(|(id, _)| *id)
}

/// Checks the second step of a sign-in: a code from the app, or the
/// recovery code `recovery` already found by [`find_recovery_code`],
/// which is then used up. `None` when neither holds.
pub fn verify(
    tx: &Transaction,
    user_id: i64,
    typed: &str,
    recovery: Option<i64>,
    now: Timestamp,
) -> rusqlite::Result<Option<Proof>> {
    if accept_code(tx, user_id, typed, now, false)? {
        return Ok(Some(Proof::Code));
    }
    if let Some(id) = recovery {
        let used = tx.exec_cached(
            "UPDATE recovery_codes SET used_at = ?1 WHERE id = ?2 AND user_id = ?3 AND used_at IS NULL",
            params![now.to_db(), id, user_id],
        )?;
        if used == 1 {
            let left: i64 = tx.row_cached(
                "SELECT COUNT(*) FROM recovery_codes WHERE user_id = ?1 AND used_at IS NULL",
                [user_id],
                |r| r.get(0),
            )?;
            return Ok(Some(Proof::RecoveryCode {
                left: usize::try_from(left).unwrap_or(0),
            }));
        }
    }
    Ok(None)
}

/// Removes a user's second factor and recovery codes, ends their sessions
/// and half-done sign-ins, and audits it under `action`
/// (`auth.second_factor_reset` by an administrator or on the machine,
/// `auth.second_factor_removed` by the user). False when there was none.
pub fn remove(
    tx: &Transaction,
    ctx: &Context,
    user_id: i64,
    action: &'static str,
    end_sessions: bool,
) -> rusqlite::Result<bool> {
    let had = tx.exec_cached("DELETE FROM second_factors WHERE user_id = ?1", [user_id])? > 0;
    tx.exec_cached("DELETE FROM recovery_codes WHERE user_id = ?1", [user_id])?;
    tx.exec_cached("DELETE FROM login_challenges WHERE user_id = ?1", [user_id])?;
    if end_sessions {
        tx.exec_cached("DELETE FROM sessions WHERE user_id = ?1", [user_id])?;
    }
    if had {
        audit::record(tx, ctx, Event::new(action, "user", user_id))?;
    }
    Ok(had)
}

/// Ends the sessions of users the policy now covers who have no second
/// factor, so that they set one up at their next sign-in (run at start-up:
/// the policy is configuration). Returns how many sessions ended.
pub fn end_unprotected_sessions(
    tx: &Transaction,
    policy: SecondFactorPolicy,
) -> rusqlite::Result<usize> {
    let mut ended = 0;
    for role in Role::ALL.into_iter().filter(|r| policy.requires(*r)) {
        ended += tx.execute(
            "DELETE FROM sessions WHERE user_id IN (
                 SELECT u.id FROM users u WHERE u.role = ?1 AND NOT EXISTS (
                     SELECT 1 FROM second_factors f
                     WHERE f.user_id = u.id AND f.confirmed_at IS NOT NULL))",
            [role.as_str()],
        )?;
    }
    Ok(ended)
}

/// A sign-in waiting for its second step.
#[derive(Debug, Clone)]
pub struct Challenge {
    pub id_hash: String,
    pub user: User,
    /// Where to go once signed in (already checked to be a local path).
    pub next: String,
}

/// Starts the second step for `user_id`; returns the cookie value (shown
/// once). Expired challenges are swept on the way.
pub fn create_challenge(
    tx: &Transaction,
    user_id: i64,
    next: &str,
    now: Timestamp,
) -> rusqlite::Result<String> {
    tx.exec_cached(
        "DELETE FROM login_challenges WHERE expires_at <= ?1",
        [now.to_db()],
    )?;
    let cookie = random_token(32);
    tx.exec_cached(
        "INSERT INTO login_challenges (id_hash, user_id, next, created_at, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            sha256_hex(&cookie),
            user_id,
            next,
            now.to_db(),
            now.plus(CHALLENGE_LIFETIME).to_db()
        ],
    )?;
    Ok(cookie)
}

/// The live challenge a cookie names (not expired, user not disabled).
pub fn find_challenge(
    conn: &Connection,
    cookie: &str,
    now: Timestamp,
) -> rusqlite::Result<Option<Challenge>> {
    conn.row_cached(
        &format!(
            "SELECT c.id_hash, c.next, {USER_COLUMNS}
             FROM login_challenges c JOIN users u ON u.id = c.user_id
             WHERE c.id_hash = ?1 AND c.expires_at > ?2 AND u.disabled = 0"
        ),
        params![sha256_hex(cookie), now.to_db()],
        |r| {
            Ok(Challenge {
                id_hash: r.get(0)?,
                next: r.get(1)?,
                user: map_user(r, 2)?,
            })
        },
    )
    .optional()
}

/// Counts a wrong code; true when the challenge has now ended (too many).
pub fn challenge_failed(tx: &Transaction, id_hash: &str) -> rusqlite::Result<bool> {
    let failures: Option<u32> = tx
        .row_cached(
            "UPDATE login_challenges SET failures = failures + 1 WHERE id_hash = ?1 RETURNING failures",
            [id_hash],
            |r| r.get(0),
        )
        .optional()?;
    let ended = failures.is_none_or(|f| f >= CHALLENGE_ATTEMPTS);
    if ended {
        end_challenge(tx, id_hash)?;
    }
    Ok(ended)
}

pub fn end_challenge(tx: &Transaction, id_hash: &str) -> rusqlite::Result<()> {
    tx.exec_cached("DELETE FROM login_challenges WHERE id_hash = ?1", [id_hash])?;
    Ok(())
}

/// The code the app shows for `secret` at `at` — for tests, which play
/// the part of the authenticator app.
pub fn code_at(secret: &str, at: Timestamp) -> String {
    let bytes = decode(secret).unwrap_or_default();
    let unix = u64::try_from(at.datetime().unix_timestamp()).unwrap_or(0);
    totp(&bytes, "-").generate(unix).to_string()
}

/// The stored secret of a user (confirmed or being set up) — for tests and
/// for nothing else: it never leaves the server once set up.
pub fn secret_of(conn: &Connection, user_id: i64) -> rusqlite::Result<Option<String>> {
    conn.row_cached(
        "SELECT secret FROM second_factors WHERE user_id = ?1",
        [user_id],
        |r| r.get(0),
    )
    .optional()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_follow_rfc_6238() {
        // RFC 6238 appendix B, SHA-1, secret "12345678901234567890": the
        // eight-digit codes end in these six digits.
        let secret = data_encoding::BASE32_NOPAD.encode(b"12345678901234567890");
        let at = |unix: i64| {
            Timestamp::from_datetime(time::OffsetDateTime::from_unix_timestamp(unix).unwrap())
        };
        assert_eq!(code_at(&secret, at(59)), "287082");
        assert_eq!(code_at(&secret, at(1_111_111_109)), "081804");
        assert_eq!(code_at(&secret, at(1_234_567_890)), "005924");
        assert_eq!(code_at(&secret, at(2_000_000_000)), "279037");
        let bytes = decode(&secret).unwrap();
        // One step of drift either way, no more.
        assert_eq!(matching_step(&bytes, "287082", at(59 + 30)), Some(1));
        assert_eq!(matching_step(&bytes, "287082", at(59 + 60)), None);
        assert_eq!(matching_step(&bytes, "287083", at(59)), None);
    }

    #[test]
    fn recovery_codes_are_random_hashed_and_forgiving_to_type() {
        let (codes, hashes) = generate_recovery_codes();
        assert_eq!(codes.len(), RECOVERY_CODES);
        assert_eq!(hashes.len(), RECOVERY_CODES);
        let mut unique = codes.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), RECOVERY_CODES, "{codes:?}");
        for (c, h) in codes.iter().zip(&hashes) {
            assert_eq!(c.len(), 14, "{c}");
            assert!(h.starts_with("$argon2id$"), "{h}");
            assert!(!h.contains(&c.replace('-', "")), "the hash is not the code");
        }
        let unused: Vec<(i64, String)> = hashes
            .iter()
            .enumerate()
            .map(|(i, h)| (i as i64, h.clone()))
            .collect();
        let typed = format!(" {} ", codes[3].to_uppercase().replace('-', " "));
        assert_eq!(find_recovery_code(&typed, &unused), Some(3));
        assert_eq!(find_recovery_code("0000-0000-0000", &unused), None);
        assert_eq!(find_recovery_code("123456", &unused), None);
        assert_eq!(
            as_recovery_code("OIL0-abcd-efgh").as_deref(),
            Some("0110abcdefgh")
        );
        assert_eq!(
            as_recovery_code("abcd-efgh-jkmu"),
            None,
            "u is not in the alphabet"
        );
    }

    #[test]
    fn policy_covers_the_roles_it_names() {
        use SecondFactorPolicy::*;
        let covered = |p: SecondFactorPolicy| {
            Role::ALL
                .into_iter()
                .filter(|r| p.requires(*r))
                .collect::<Vec<_>>()
        };
        assert_eq!(covered(Nobody), vec![]);
        assert_eq!(covered(Administrators), vec![Role::Admin]);
        assert_eq!(covered(Managers), vec![Role::Admin, Role::Manager]);
        assert_eq!(covered(Everyone), Role::ALL.to_vec());
    }
}
