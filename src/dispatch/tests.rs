use std::sync::Arc;

use super::*;
use crate::accounts::users::User;
use crate::db::Db;
use crate::domain::actor::{Actor, Places};
use crate::domain::{Clock, Role, SystemClock};
use crate::jobs;
use crate::orders::lifecycle::{LineInput, NewOrder};

/// An approved order of 2 boxes of gloves (their code GL-100) from
/// "MedSupply" (account C-77), by manager Max; the data dir is `dir`.
fn setup() -> (tempfile::TempDir, Db, Arc<Config>, i64) {
    let (dir, db) = crate::db::testing::migrated_db();
    db.write_blocking(|tx| {
        tx.execute_batch(
            "INSERT INTO users (id, username, display_name, role, password_hash, created_at, updated_at)
               VALUES (2, 'max', 'Max', 'manager', 'x', 'now', 'now');
             INSERT INTO items (id, code, name, unit, created_at, updated_at)
               VALUES (1, 'GLV-M', 'Nitrile gloves M', 'each', 'now', 'now');
             INSERT INTO locations (id, name, kind, created_at, updated_at) VALUES (1, 'Store', 'room', 'now', 'now');
             INSERT INTO suppliers (id, name, account_number, created_at, updated_at)
               VALUES (1, 'MedSupply', 'C-77', 'now', 'now');
             INSERT INTO supplier_items (id, supplier_id, item_id, supplier_code, pack_size, price_minor, currency, preferred, created_at, updated_at)
               VALUES (1, 1, 1, 'GL-100', 100, 800, 'EUR', 1, 'now', 'now');",
        )
        .map_err(DbError::from)
    })
    .unwrap();
    let config = Arc::new(Config::for_data_dir(dir.path()));
    let order = db
        .write_blocking(|tx| {
            let o = lifecycle::create(
                tx,
                &ctx(),
                &env(),
                &NewOrder {
                    supplier_id: 1,
                    note: String::new(),
                    lines: vec![LineInput {
                        supplier_item_id: Some(1),
                        item_id: None,
                        location_id: 1,
                        packs: 2,
                        note: String::new(),
                    }],
                },
            )?;
            lifecycle::act(
                tx,
                &ctx(),
                &env(),
                o.id,
                Action::Submit,
                &ActInput::default(),
            )
        })
        .unwrap();
    assert_eq!(order.state, OrderState::Approved);
    (dir, db, config, order.id)
}

/// Max, a practice manager (user 2).
pub(crate) fn manager() -> User {
    User {
        id: 2,
        username: "max".into(),
        display_name: "Max".into(),
        role: Role::Manager,
        must_change_password: false,
        disabled: false,
        created_at: "now".into(),
    }
}

/// Max's audit context, now.
pub(crate) fn ctx() -> Context {
    Context {
        // No location in these tests has an access list, so Max may use
        // every one.
        actor: Actor::User(manager().person(Places::All)),
        ip: None,
        request_id: None,
        at: SystemClock.now(),
    }
}

fn env() -> Env {
    Env {
        currency: "EUR".into(),
        today: time::macros::date!(2026 - 11 - 30),
    }
}

fn csv(folder: &str) -> Channel {
    Channel::CsvFolder(csv_folder::Settings {
        folder: folder.into(),
        columns: vec![],
    })
}

fn act(db: &Db, id: i64, action: Action, reason: &str) -> Result<orders::Order, OrdersError> {
    db.write_blocking(|tx| {
        lifecycle::act(
            tx,
            &ctx(),
            &env(),
            id,
            action,
            &ActInput {
                reason: reason.into(),
                ..ActInput::default()
            },
        )
    })
}

fn state(db: &Db, id: i64) -> (OrderState, String, String) {
    let o = db
        .read_blocking(|c| orders::get(c, id, env().today).map_err(DbError::from))
        .unwrap()
        .unwrap();
    (o.state, o.channel, o.reason)
}

/// Runs the newest dispatch job's handler once, as the worker would, with
/// the given attempt number.
async fn run_job(db: &Db, config: &Arc<Config>, attempt: u32) -> Result<(), JobError> {
    let (list, _) = db
        .read(|c| jobs::list(c, None, Some(KIND), 1, 0).map_err(DbError::from))
        .await
        .unwrap();
    let job = &list[0];
    let kinds = kinds(Dispatcher::new(config.clone()).unwrap());
    let handler = kinds.into_iter().find(|k| k.name == KIND).unwrap().handler;
    handler(JobContext {
        id: job.id,
        kind: job.kind.clone(),
        json: job.payload.clone(),
        attempt,
        max_attempts: job.max_attempts,
        key: job.idempotency_key.clone(),
        db: db.clone(),
        clock: Arc::new(SystemClock),
        target: Default::default(),
    })
    .await
}

/// Runs every due job with dispatch's handlers, as the worker would;
/// how many ran.
async fn run_pending(db: &Db, config: &Arc<Config>) -> usize {
    let kinds = kinds(Dispatcher::new(config.clone()).unwrap());
    jobs::worker::run_pending(db, Arc::new(SystemClock), &kinds).await
}

fn set(db: &Db, channel: &Channel) -> Result<Channel, CatalogError> {
    db.write_blocking(|tx| set_channel(tx, &ctx(), 1, channel))
}

#[test]
fn channel_settings_are_checked_and_kept() {
    let (_d, db, _c, _) = setup();
    for bad in ["", "../etc", ".hidden", "a/b", "x y"] {
        let err = set(&db, &csv(bad)).unwrap_err();
        assert!(
            matches!(&err, CatalogError::Invalid(e) if e.get("folder").is_some()),
            "{bad}: {err:?}"
        );
    }
    let cols = Channel::CsvFolder(csv_folder::Settings {
        folder: "medsupply".into(),
        columns: vec!["supplier_code".into(), "price".into()],
    });
    let err = set(&db, &cols).unwrap_err();
    assert!(
        matches!(&err, CatalogError::Invalid(e) if e.get("columns").unwrap().contains("\"price\""))
    );
    assert_eq!(
        db.read_blocking(|c| channel_of(c, 1).map_err(DbError::from))
            .unwrap(),
        Channel::Manual
    );
    assert_eq!(set(&db, &csv("medsupply")).unwrap(), csv("medsupply"));
    assert_eq!(
        db.read_blocking(|c| channel_of(c, 1).map_err(DbError::from))
            .unwrap(),
        csv("medsupply")
    );
}

#[test]
fn a_supplier_without_a_channel_cannot_be_sent_to() {
    let (_d, db, _c, id) = setup();
    let err = act(&db, id, Action::Queue, "").unwrap_err();
    assert!(
        matches!(&err, OrdersError::Refused(r) if r.message.contains("MedSupply has no sending channel") && r.code == crate::orders::refusals::SUPPLIER_HAS_NO_CHANNEL),
        "{err:?}"
    );
    assert_eq!(state(&db, id).0, OrderState::Approved);
    let n: i64 = db
        .read_blocking(|c| {
            c.query_row("SELECT count(*) FROM jobs", [], |r| r.get(0))
                .map_err(DbError::from)
        })
        .unwrap();
    assert_eq!(n, 0);
}

#[tokio::test]
async fn a_sent_order_is_a_csv_file_in_the_suppliers_folder() {
    let (_d, db, config, id) = setup();
    std::fs::create_dir_all(&config.dispatch.folder_root).unwrap();
    set(&db, &csv("medsupply")).unwrap();
    let queued = act(&db, id, Action::Queue, "").unwrap();
    assert_eq!(queued.state, OrderState::Queued);
    assert_eq!(run_pending(&db, &config).await, 1);
    let (s, channel, _) = state(&db, id);
    assert_eq!((s, channel.as_str()), (OrderState::Sent, "csv_folder"));
    let file = config
        .dispatch
        .folder_root
        .join("medsupply")
        .join(format!("{}.csv", queued.number));
    let text = std::fs::read_to_string(&file).unwrap();
    assert_eq!(
        text,
        format!(
            "order_number,line,supplier_code,description,packs,unit_price,line_total,currency\n\
             {},1,GL-100,Nitrile gloves M,2,8.00,16.00,EUR\n",
            queued.number
        )
    );
    // No temporary file is left behind.
    let names: Vec<_> = std::fs::read_dir(file.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
    let events = db
        .read_blocking(|c| orders::events(c, id).map_err(DbError::from))
        .unwrap();
    let last = events.last().unwrap();
    assert_eq!(
        (last.action.as_str(), last.actor.as_str()),
        ("dispatch_succeeded", "stockroom")
    );
    // The job for an order no longer queued does nothing.
    run_job(&db, &config, 2).await.unwrap();
    assert_eq!(state(&db, id).0, OrderState::Sent);
}

#[tokio::test]
async fn an_order_csv_carries_no_spreadsheet_formula_and_reads_back_as_written() {
    let (_d, db, config, id) = setup();
    std::fs::create_dir_all(&config.dispatch.folder_root).unwrap();
    db.write_blocking(|tx| {
        tx.execute_batch(
            "UPDATE items SET name = '=HYPERLINK(\"http://evil.example\",\"open\")' WHERE id = 1;
             UPDATE order_lines SET supplier_code = '-GL-100';",
        )
        .map_err(DbError::from)
    })
    .unwrap();
    set(&db, &csv("medsupply")).unwrap();
    let queued = act(&db, id, Action::Queue, "").unwrap();
    assert_eq!(run_pending(&db, &config).await, 1);
    let file = config
        .dispatch
        .folder_root
        .join("medsupply")
        .join(format!("{}.csv", queued.number));
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        text.contains(",'-GL-100,\"'=HYPERLINK("),
        "guarded like every export: {text}"
    );
    // stockroom's own reader gives back what was typed.
    let table = crate::csv_io::table::parse(&text).unwrap();
    assert_eq!(table.rows[0].cells[2], "-GL-100");
    assert_eq!(
        table.rows[0].cells[3],
        "=HYPERLINK(\"http://evil.example\",\"open\")"
    );
}

#[tokio::test]
async fn an_unreachable_folder_is_retried_then_fails_the_order_which_can_be_sent_again() {
    let (_d, db, config, id) = setup();
    set(&db, &csv("medsupply")).unwrap();
    act(&db, id, Action::Queue, "").unwrap();
    // The root does not exist: retried while attempts remain.
    let first = run_job(&db, &config, 1).await.unwrap_err();
    assert!(
        matches!(&first, JobError::Unreachable(m) if m.contains("is not there")),
        "{first:?}"
    );
    assert_eq!(state(&db, id).0, OrderState::Queued);
    // The last attempt gives up: the order says why.
    let last = run_job(&db, &config, 8).await.unwrap_err();
    assert!(matches!(last, JobError::Permanent(_)));
    let (s, _, reason) = state(&db, id);
    assert_eq!(s, OrderState::DispatchFailed);
    assert!(reason.contains("is not there"), "{reason}");
    // Fixed: send again; a new job, then sent.
    std::fs::create_dir_all(&config.dispatch.folder_root).unwrap();
    act(&db, id, Action::Retry, "").unwrap();
    let keys: Vec<String> = db
        .read_blocking(|c| {
            c.prepare("SELECT idempotency_key FROM jobs ORDER BY id")?
                .query_map([], |r| r.get(0))?
                .collect::<Result<Vec<String>, _>>()
                .map_err(DbError::from)
        })
        .unwrap();
    assert_eq!(
        keys,
        [
            format!("order-dispatch-{id}-1"),
            format!("order-dispatch-{id}-2")
        ]
    );
    run_job(&db, &config, 1).await.unwrap();
    assert_eq!(state(&db, id).0, OrderState::Sent);
}

#[tokio::test]
async fn an_order_cancelled_while_queued_is_not_sent() {
    let (_d, db, config, id) = setup();
    std::fs::create_dir_all(&config.dispatch.folder_root).unwrap();
    set(&db, &csv("medsupply")).unwrap();
    act(&db, id, Action::Queue, "").unwrap();
    act(&db, id, Action::Cancel, "ordered by phone instead").unwrap();
    assert_eq!(run_pending(&db, &config).await, 1);
    let (list, _) = db
        .read(|c| jobs::list(c, None, Some(KIND), 1, 0).map_err(DbError::from))
        .await
        .unwrap();
    assert_eq!(
        list[0].state,
        jobs::JobState::Succeeded,
        "nothing left to do"
    );
    assert_eq!(state(&db, id).0, OrderState::Cancelled);
    assert!(!config.dispatch.folder_root.join("medsupply").exists());
}

#[tokio::test]
async fn a_send_job_whose_payload_names_no_order_is_dead_with_the_reason() {
    let (_d, db, config, id) = setup();
    std::fs::create_dir_all(&config.dispatch.folder_root).unwrap();
    set(&db, &csv("medsupply")).unwrap();
    act(&db, id, Action::Queue, "").unwrap();
    // Damaged behind the queue's back: the order id is not a number.
    db.write_blocking(|tx| {
        tx.execute("UPDATE jobs SET payload = '{\"order_id\": \"one\"}'", [])
            .map_err(DbError::from)
    })
    .unwrap();
    assert_eq!(run_pending(&db, &config).await, 1);
    let (list, _) = db
        .read(|c| jobs::list(c, None, Some(KIND), 1, 0).map_err(DbError::from))
        .await
        .unwrap();
    assert_eq!((list[0].state, list[0].attempts), (jobs::JobState::Dead, 1));
    assert!(
        list[0].last_error.starts_with(
            "the payload of a order.dispatch job does not read: invalid type: string \"one\""
        ),
        "{}",
        list[0].last_error
    );
    assert_eq!(state(&db, id).0, OrderState::Queued, "no order was guessed");
}

#[test]
fn the_newest_send_and_test_are_found_through_the_subject() {
    let (_d, db, _config, id) = setup();
    set(&db, &csv("medsupply")).unwrap();
    let latest = |order: i64| {
        db.read_blocking(|c| crate::orders::jobs::latest_send(c, order).map_err(DbError::from))
            .unwrap()
            .map(|j| j.id)
    };
    assert_eq!(latest(id), None);
    act(&db, id, Action::Queue, "").unwrap();
    let send = latest(id).expect("a send job");
    assert_eq!(latest(id + 1), None, "another order has none");
    let tests: Vec<i64> = (0..2)
        .map(|_| db.write_blocking(|tx| enqueue_test(tx, &ctx(), 1)).unwrap())
        .collect();
    let last = db
        .read_blocking(|c| last_test(c, 1).map_err(DbError::from))
        .unwrap()
        .unwrap();
    assert_eq!(last.id, tests[1]);
    assert_ne!(last.id, send);
    assert_eq!(
        latest(id),
        Some(send),
        "a supplier test is not an order's send"
    );
}

/// A damaged channel row is an error naming the problem, not "manual":
/// otherwise the supplier would silently stop getting orders.
#[test]
fn a_channel_row_that_does_not_read_is_an_error_not_manual() {
    let (_d, db, _c, _id) = setup();
    let read = |db: &Db| db.read_blocking(|c| channel_of(c, 1).map_err(DbError::from));
    assert_eq!(read(&db).unwrap(), Channel::Manual);
    db.write_blocking(|tx| {
        tx.execute(
            "UPDATE suppliers SET dispatch_channel = 'email', dispatch_settings = '{\"cc\": []}' WHERE id = 1",
            [],
        )
        .map_err(DbError::from)
    })
    .unwrap();
    let err = read(&db).unwrap_err().to_string();
    assert!(
        err.contains("the \"email\" channel's settings do not read") && err.contains("to"),
        "{err}"
    );
}
