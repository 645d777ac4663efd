//! Practice settings a manager or admin changes in daily life (as opposed
//! to the infrastructure in the config file): the practice's name, address
//! and contact details printed on orders. Stored one row per key in
//! `settings`; every change is audited.

use rusqlite::{Connection, Transaction, params};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::audit::{self, Context, Event};
use crate::catalog::CatalogError;
use crate::db::Cached;
use crate::validation::FieldErrors;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Practice {
    /// Printed at the top of every order.
    #[serde(default)]
    pub name: String,
    /// Postal and delivery address, several lines.
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub email: String,
}

const KEYS: [&str; 4] = [
    "practice.name",
    "practice.address",
    "practice.phone",
    "practice.email",
];

pub fn practice(conn: &Connection) -> rusqlite::Result<Practice> {
    let mut values = [String::new(), String::new(), String::new(), String::new()];
    let mut stmt =
        conn.prepare_cached("SELECT key, value FROM settings WHERE key LIKE 'practice.%'")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
    for row in rows {
        let (k, v) = row?;
        if let Some(i) = KEYS.iter().position(|key| *key == k) {
            values[i] = v;
        }
    }
    let [name, address, phone, email] = values;
    Ok(Practice {
        name,
        address,
        phone,
        email,
    })
}

/// Validates and stores the practice's details.
pub fn set_practice(
    tx: &Transaction,
    ctx: &Context,
    input: &Practice,
) -> Result<Practice, CatalogError> {
    let mut errors = FieldErrors::default();
    let single_line = |errors: &mut FieldErrors, field: &str, v: &str, max: usize| {
        if v.chars().count() > max || v.chars().any(char::is_control) {
            errors.add(
                field,
                format!("must be at most {max} characters on one line"),
            );
        }
    };
    single_line(&mut errors, "name", input.name.trim(), 120);
    single_line(&mut errors, "phone", input.phone.trim(), 40);
    single_line(&mut errors, "email", input.email.trim(), 200);
    if !input.email.trim().is_empty() && !crate::catalog::suppliers::valid_email(input.email.trim())
    {
        errors.add(
            "email",
            "must be an email address such as orders@example.org",
        );
    }
    let address = input.address.replace("\r\n", "\n");
    if address.trim().chars().count() > 500
        || address.lines().count() > 8
        || address.chars().any(|c| c.is_control() && c != '\n')
    {
        errors.add("address", "must be at most 8 lines and 500 characters");
    }
    if input.name.trim().is_empty() {
        errors.add("name", "is required: it heads every printed order");
    }
    errors.into_result()?;
    let clean = Practice {
        name: input.name.trim().into(),
        address: address.trim().into(),
        phone: input.phone.trim().into(),
        email: input.email.trim().into(),
    };
    let before = practice(tx)?;
    let values = [&clean.name, &clean.address, &clean.phone, &clean.email];
    let pairs: Vec<(&str, &str)> = KEYS
        .iter()
        .zip(values)
        .map(|(k, v)| (*k, v.as_str()))
        .collect();
    store(
        tx,
        ctx,
        "settings.practice",
        "practice",
        &pairs,
        json!(before),
        json!(clean),
    )?;
    Ok(clean)
}

/// Writes one group of settings, audited as `action` on `settings/<group>`
/// with what it was and what it is now.
pub(crate) fn store(
    tx: &Transaction,
    ctx: &Context,
    action: &'static str,
    group: &str,
    values: &[(&str, &str)],
    before: serde_json::Value,
    after: serde_json::Value,
) -> rusqlite::Result<()> {
    for (key, value) in values {
        tx.exec_cached(
            "INSERT INTO settings (key, value, updated_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
            params![key, value, ctx.at.to_db()],
        )?;
    }
    audit::record(
        tx,
        ctx,
        Event::new(action, "settings", group)
            .before(before)
            .after(after),
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::DbError;
    use crate::domain::{Clock, SystemClock};

    #[test]
    fn details_round_trip_and_bad_ones_change_nothing() {
        let (_d, db) = crate::db::testing::migrated_db();
        let ctx = Context::system(SystemClock.now());
        let input = Practice {
            name: " Riverside Surgery ".into(),
            address: "1 River Road\r\nRiverton RT1 1AA".into(),
            phone: "+44 1234 567890".into(),
            email: "orders@riverside.example".into(),
        };
        db.write_blocking(|tx| set_practice(tx, &ctx, &input))
            .unwrap();
        let got = db
            .read_blocking(|c| practice(c).map_err(DbError::from))
            .unwrap();
        assert_eq!(got.name, "Riverside Surgery");
        assert_eq!(got.address, "1 River Road\nRiverton RT1 1AA");
        let bad = Practice {
            name: String::new(),
            email: "nope".into(),
            ..input
        };
        let err = db
            .write_blocking(|tx| set_practice(tx, &ctx, &bad))
            .unwrap_err();
        let CatalogError::Invalid(err) = err else {
            panic!("{err:?}")
        };
        assert!(err.get("name").is_some() && err.get("email").is_some());
        let still = db
            .read_blocking(|c| practice(c).map_err(DbError::from))
            .unwrap();
        assert_eq!(still, got);
    }
}
