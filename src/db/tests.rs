use super::*;
use crate::config::Config;
use crate::db::migrate::{self, MigrateError, Migration};
use crate::domain::{Clock, SystemClock};

fn open(dir: &tempfile::TempDir) -> Db {
    let config = Config::for_data_dir(dir.path());
    Db::open(&config.db_path(), &config.db).unwrap()
}

fn migrated(dir: &tempfile::TempDir) -> Db {
    let db = open(dir);
    migrate::migrate(
        &mut db.writer().unwrap(),
        &dir.path().join("backups"),
        SystemClock.now(),
    )
    .unwrap();
    db
}

#[test]
fn connections_have_the_durability_settings() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(&dir);
    for conn in [&*db.writer().unwrap(), &*db.inner.readers.get().unwrap()] {
        let mode: String = conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        let sync: i64 = conn
            .query_row("PRAGMA synchronous", [], |r| r.get(0))
            .unwrap();
        assert_eq!(sync, 2, "synchronous=FULL");
        let fk: i64 = conn
            .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
            .unwrap();
        assert_eq!(fk, 1);
        let auto: i64 = conn
            .query_row("PRAGMA wal_autocheckpoint", [], |r| r.get(0))
            .unwrap();
        assert_eq!(auto, 0, "the server owns checkpoints");
        let busy: i64 = conn
            .query_row("PRAGMA busy_timeout", [], |r| r.get(0))
            .unwrap();
        assert_eq!(busy, 5000);
    }
}

#[test]
fn readers_cannot_write() {
    let dir = tempfile::tempdir().unwrap();
    let db = migrated(&dir);
    let err = db
        .read_blocking(|c| c.execute("DELETE FROM users", []).map_err(DbError::from))
        .unwrap_err();
    assert!(
        err.to_string().contains("readonly") || err.to_string().contains("read-only"),
        "{err}"
    );
}

#[test]
fn write_commits_on_ok_and_rolls_back_on_err() {
    let dir = tempfile::tempdir().unwrap();
    let db = migrated(&dir);
    let insert = |tx: &rusqlite::Transaction| {
        tx.execute(
            "INSERT INTO health_probe (id, checked_at) VALUES (1, 'x')",
            [],
        )
    };
    let failed: Result<(), DbError> = db.write_blocking(|tx| {
        insert(tx)?;
        Err(DbError::Io(std::io::Error::other("abort")))
    });
    assert!(failed.is_err());
    let count = |db: &Db| {
        db.read_blocking(|c| {
            c.query_row("SELECT count(*) FROM health_probe", [], |r| {
                r.get::<_, i64>(0)
            })
            .map_err(DbError::from)
        })
        .unwrap()
    };
    assert_eq!(count(&db), 0, "rolled back");
    db.write_blocking(|tx| insert(tx).map_err(DbError::from))
        .unwrap();
    assert_eq!(count(&db), 1, "committed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_concurrent_writers_all_succeed() {
    let dir = tempfile::tempdir().unwrap();
    let db = migrated(&dir);
    let mut tasks = Vec::new();
    for i in 0..64 {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            db.write(move |tx| {
                // Read-modify-write inside the transaction: a lost update or a
                // BUSY error would both show in the final count.
                let n: i64 = tx
                    .query_row("SELECT coalesce(max(id), 0) FROM login_failures", [], |r| r.get(0))?;
                tx.execute(
                    "INSERT INTO login_failures (id, username_key, failed_at) VALUES (?1, ?2, 'now')",
                    rusqlite::params![n + 1, format!("writer-{i}")],
                )?;
                Ok::<_, DbError>(())
            })
            .await
        }));
    }
    for t in tasks {
        t.await.unwrap().expect("no writer fails");
    }
    let n: i64 = db
        .read(|c| {
            c.query_row("SELECT count(*) FROM login_failures", [], |r| r.get(0))
                .map_err(DbError::from)
        })
        .await
        .unwrap();
    assert_eq!(n, 64);
}

#[tokio::test]
#[should_panic(expected = "boom")]
async fn a_panic_inside_a_write_reaches_the_caller() {
    let dir = tempfile::tempdir().unwrap();
    let db = migrated(&dir);
    let _: Result<(), DbError> = db.write(|_| panic!("boom")).await;
}

#[test]
fn fresh_database_gets_every_migration_without_a_copy() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(&dir);
    let report = migrate::migrate(
        &mut db.writer().unwrap(),
        &dir.path().join("backups"),
        SystemClock.now(),
    )
    .unwrap();
    assert_eq!(report.from, 0);
    assert_eq!(report.applied.len(), migrate::known().len());
    assert!(report.copy.is_none());
    assert!(!dir.path().join("backups").exists());
    // Running again applies nothing.
    let again = migrate::migrate(
        &mut db.writer().unwrap(),
        &dir.path().join("backups"),
        SystemClock.now(),
    )
    .unwrap();
    assert!(again.applied.is_empty());
}

fn with_extra(sql: &str) -> Vec<Migration> {
    let mut list = migrate::known();
    let next = list.len() as u32 + 1;
    list.push(Migration::new(next, "add_test_table", sql));
    list
}

#[test]
fn upgrade_writes_a_consistent_copy_first() {
    let dir = tempfile::tempdir().unwrap();
    let db = migrated(&dir);
    db.write_blocking(|tx| {
        tx.execute(
            "INSERT INTO health_probe (id, checked_at) VALUES (1, 'before-upgrade')",
            [],
        )
        .map_err(DbError::from)
    })
    .unwrap();
    let current = migrate::known().len() as u32;
    let backups = dir.path().join("backups");
    let report = migrate::migrate_with(
        &mut db.writer().unwrap(),
        with_extra("CREATE TABLE test_upgrade (id INTEGER PRIMARY KEY);"),
        &backups,
        SystemClock.now(),
    )
    .unwrap();
    let copy = report.copy.expect("a copy was written");
    let name = copy.file_name().unwrap().to_str().unwrap();
    assert!(
        name.starts_with(&format!("pre-migrate-{:04}-{:04}-", current, current + 1))
            && name.ends_with(".db"),
        "{name}"
    );
    assert_eq!(copy.parent().unwrap(), backups);
    // The copy is the old database, with its data and without the new table.
    let old = rusqlite::Connection::open(&copy).unwrap();
    let probe: String = old
        .query_row("SELECT checked_at FROM health_probe", [], |r| r.get(0))
        .unwrap();
    assert_eq!(probe, "before-upgrade");
    let has_new: i64 = old
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE name = 'test_upgrade'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(has_new, 0);
    let plan = migrate::plan_with(&old, migrate::known()).unwrap();
    assert_eq!(plan.current, current);
}

#[test]
fn a_migration_this_binary_does_not_know_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(&dir);
    migrate::migrate_with(
        &mut db.writer().unwrap(),
        with_extra("CREATE TABLE from_the_future (id INTEGER);"),
        &dir.path().join("backups"),
        SystemClock.now(),
    )
    .unwrap();
    let err = migrate::migrate(
        &mut db.writer().unwrap(),
        &dir.path().join("backups"),
        SystemClock.now(),
    )
    .unwrap_err();
    assert!(matches!(err, MigrateError::UnknownApplied { .. }), "{err}");
    assert!(err.to_string().contains("newer version"), "{err}");
}

#[test]
fn a_changed_migration_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = migrated(&dir);
    let mut changed = migrate::known();
    changed[0].sql.push_str("\n-- edited after release");
    changed[0] = Migration::new(changed[0].version, &changed[0].name, &changed[0].sql);
    let err = migrate::migrate_with(
        &mut db.writer().unwrap(),
        changed,
        &dir.path().join("backups"),
        SystemClock.now(),
    )
    .unwrap_err();
    assert!(
        matches!(err, MigrateError::ChecksumChanged { version: 1, .. }),
        "{err}"
    );
}

#[test]
fn a_failing_migration_leaves_the_database_at_the_previous_version() {
    let dir = tempfile::tempdir().unwrap();
    let db = migrated(&dir);
    let err = migrate::migrate_with(
        &mut db.writer().unwrap(),
        with_extra("CREATE TABLE half_done (id INTEGER); THIS IS NOT SQL;"),
        &dir.path().join("backups"),
        SystemClock.now(),
    );
    assert!(err.is_err());
    let leftovers: i64 = db
        .read_blocking(|c| {
            c.query_row(
                "SELECT count(*) FROM sqlite_master WHERE name = 'half_done'",
                [],
                |r| r.get(0),
            )
            .map_err(DbError::from)
        })
        .unwrap();
    assert_eq!(
        leftovers, 0,
        "the failed migration's transaction rolled back"
    );
    let plan = db
        .read_blocking(|c| Ok::<_, DbError>(migrate::plan(c)))
        .unwrap()
        .unwrap();
    assert_eq!(plan.current, migrate::known().len() as u32);
}

#[test]
fn checkpoints_fold_the_wal_into_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = migrated(&dir);
    db.write_blocking(|tx| {
        tx.execute(
            "INSERT INTO health_probe (id, checked_at) VALUES (1, 'x')",
            [],
        )
        .map_err(DbError::from)
    })
    .unwrap();
    let wal = dir.path().join("stockroom.db-wal");
    assert!(
        std::fs::metadata(&wal).unwrap().len() > 0,
        "autocheckpoint is off: the WAL holds the commit"
    );
    db.checkpoint(Checkpoint::Passive).unwrap();
    db.checkpoint(Checkpoint::Truncate).unwrap();
    assert_eq!(std::fs::metadata(&wal).unwrap().len(), 0);
    // The data is in the main file: a fresh connection without the WAL sees it.
    let copy = dir.path().join("copy.db");
    std::fs::copy(dir.path().join("stockroom.db"), &copy).unwrap();
    let c = rusqlite::Connection::open(&copy).unwrap();
    let n: i64 = c
        .query_row("SELECT count(*) FROM health_probe", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn in_a_group_commit_a_failing_or_panicking_write_undoes_only_itself() {
    let dir = tempfile::tempdir().unwrap();
    let db = migrated(&dir);
    // Hold the writer so that everything below queues into one group.
    let gate = db.writer().unwrap();
    let mut tasks = Vec::new();
    for i in 0..30 {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            let r = db
                .write(move |tx| {
                    tx.execute(
                        "INSERT INTO login_failures (username_key, failed_at) VALUES (?1, 'now')",
                        [format!("w{i}")],
                    )?;
                    match i % 10 {
                        3 => Err(DbError::Group("refused".into())),
                        7 => panic!("write {i} panicked"),
                        _ => Ok(i),
                    }
                })
                .await;
            r.map_err(|e| e.to_string())
        }));
    }
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    drop(gate);
    let mut outcomes = Vec::new();
    for t in tasks {
        outcomes.push(match t.await {
            Ok(Ok(i)) => format!("ok {i}"),
            Ok(Err(e)) => format!("err {e}"),
            Err(p) if p.is_panic() => "panic".to_string(),
            Err(e) => format!("join {e}"),
        });
    }
    assert_eq!(outcomes.iter().filter(|o| o.starts_with("ok")).count(), 24);
    assert_eq!(outcomes.iter().filter(|o| *o == "panic").count(), 3);
    assert_eq!(outcomes.iter().filter(|o| o.contains("refused")).count(), 3);
    // Tasks queue in whatever order the runtime runs them, so compare as a set.
    let kept: Vec<String> = db
        .read(|c| {
            let mut s = c.prepare(
                "SELECT username_key FROM login_failures ORDER BY CAST(substr(username_key, 2) AS INTEGER)",
            )?;
            let rows = s.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
            Ok::<_, DbError>(rows)
        })
        .await
        .unwrap();
    let expected: Vec<String> = (0..30)
        .filter(|i| i % 10 != 3 && i % 10 != 7)
        .map(|i| format!("w{i}"))
        .collect();
    assert_eq!(kept, expected, "exactly the successful writes");
    // The queue is idle again and takes new writes.
    db.write(|tx| {
        tx.execute("DELETE FROM login_failures", [])
            .map_err(DbError::from)
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_wal_stays_bounded_under_sustained_writes_and_reads() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::for_data_dir(dir.path());
    config.db.wal_fold_bytes = 1024 * 1024;
    let db = Db::open(&config.db_path(), &config.db).unwrap();
    db.write(|tx| {
        tx.execute_batch("CREATE TABLE load (id INTEGER PRIMARY KEY, body BLOB NOT NULL)")
            .map_err(DbError::from)
    })
    .await
    .unwrap();
    let wal = dir.path().join("stockroom.db-wal");
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    // Readers keep coming the whole time, as pages do.
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let (db, stop) = (db.clone(), stop.clone());
            tokio::spawn(async move {
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    db.read(|c| {
                        c.query_row("SELECT count(*), total(length(body)) FROM load", [], |r| {
                            r.get::<_, i64>(0)
                        })
                        .map_err(DbError::from)
                    })
                    .await
                    .unwrap();
                }
            })
        })
        .collect();
    // About 10 MB written by 8 writers, ten times the fold size.
    let writers: Vec<_> = (0..8)
        .map(|_| {
            let (db, wal) = (db.clone(), wal.clone());
            tokio::spawn(async move {
                let mut largest = 0;
                for _ in 0..60 {
                    db.write(|tx| {
                        tx.execute("INSERT INTO load (body) VALUES (randomblob(20000))", [])
                            .map_err(DbError::from)
                    })
                    .await
                    .unwrap();
                    largest = largest.max(std::fs::metadata(&wal).unwrap().len());
                }
                largest
            })
        })
        .collect();
    let mut largest = 0;
    for w in writers {
        largest = largest.max(w.await.unwrap());
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for r in readers {
        r.await.unwrap();
    }
    let rows: i64 = db
        .read(|c| {
            c.query_row("SELECT count(*) FROM load", [], |r| r.get(0))
                .map_err(DbError::from)
        })
        .await
        .unwrap();
    assert_eq!(rows, 480, "every write is kept");
    assert!(
        largest < 4 * 1024 * 1024,
        "the WAL reached {largest} bytes with a fold size of 1 MiB"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_row_alongside_is_committed_with_the_first_write_that_succeeds_and_only_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = migrated(&dir);
    db.write(|tx| {
        tx.execute_batch(
            "CREATE TABLE work (n INTEGER NOT NULL);
             CREATE TABLE marks (n INTEGER NOT NULL CHECK (n < 100))",
        )
        .map_err(DbError::from)
    })
    .await
    .unwrap();
    let count = |sql: &'static str| {
        let db = db.clone();
        async move {
            db.read(move |c| {
                c.query_row(sql, [], |r| r.get::<_, i64>(0))
                    .map_err(DbError::from)
            })
            .await
            .unwrap()
        }
    };

    // A failing write does not take it; the next successful one does, once.
    let mark = Arc::new(Alongside::new(|tx| {
        tx.execute("INSERT INTO marks (n) VALUES (1)", [])?;
        Ok(())
    }));
    let d = db.clone();
    mark.around(async move {
        let failed: Result<(), DbError> = d
            .write(|tx| {
                tx.execute("INSERT INTO work (n) VALUES (1)", [])?;
                Err(DbError::Damaged("refused".into()))
            })
            .await;
        assert!(failed.is_err());
        for n in 2..4 {
            d.write(move |tx| {
                tx.execute("INSERT INTO work (n) VALUES (?1)", [n])
                    .map_err(DbError::from)
            })
            .await
            .unwrap();
        }
    })
    .await;
    assert!(mark.committed());
    assert_eq!(count("SELECT count(*) FROM marks").await, 1);
    assert_eq!(
        count("SELECT CAST(group_concat(n, '') AS INTEGER) FROM work").await,
        23
    );

    // A row that cannot be written undoes the write it rides with.
    let bad = Arc::new(Alongside::new(|tx| {
        tx.execute("INSERT INTO marks (n) VALUES (500)", [])?;
        Ok(())
    }));
    let d = db.clone();
    let outcome = bad
        .around(async move {
            d.write(|tx| {
                tx.execute("INSERT INTO work (n) VALUES (9)", [])
                    .map_err(DbError::from)
            })
            .await
        })
        .await;
    assert!(outcome.is_err());
    assert!(!bad.committed());
    assert_eq!(count("SELECT count(*) FROM work WHERE n = 9").await, 0);
    assert_eq!(count("SELECT count(*) FROM marks").await, 1);
}
