//! Settings applied to every connection as it opens.
//!
//! `synchronous=FULL`: in WAL mode, NORMAL may lose the last commits on power
//! loss (the WAL is not synced at each commit). stockroom acknowledges a
//! write only after it would survive a power cut, so every commit syncs the
//! WAL. `wal_autocheckpoint=0` and no checkpoint on close: the server decides
//! when to checkpoint (see `Db::checkpoint`), which continuous WAL shipping
//! needs.

use std::time::Duration;

use rusqlite::Connection;
use rusqlite::config::DbConfig;

pub(super) fn apply(c: &Connection, busy: Duration, read_only: bool) -> rusqlite::Result<()> {
    // busy_timeout first, so the rest waits rather than fails on a lock.
    c.busy_timeout(busy)?;
    c.pragma_update(None, "foreign_keys", "ON")?;
    c.pragma_update(None, "synchronous", "FULL")?;
    c.pragma_update(None, "wal_autocheckpoint", 0)?;
    c.pragma_update(None, "temp_store", "MEMORY")?;
    c.pragma_update(None, "cache_size", -16_000)?;
    c.set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true)?;
    // Hot queries are prepared once per connection (see `db::Cached`);
    // compiling them anew cost more than running them.
    c.set_prepared_statement_cache_capacity(256);
    rusqlite::vtab::array::load_module(c)?;
    if read_only {
        c.pragma_update(None, "query_only", "ON")?;
    }
    Ok(())
}
