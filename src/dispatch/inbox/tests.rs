use std::path::Path;

use super::apply::{Incoming, Recorded, record};
use super::*;
use crate::dispatch::tests::ctx;
use crate::domain::order::{Action, OrderState};
use crate::domain::{Clock, SystemClock};
use crate::orders::lifecycle::{self, ActInput, LineInput, NewOrder};
use crate::orders::receiving::{self, ReceiptInput, ReceiptLineInput};
use crate::orders::{self};

/// The reader's own fixtures: the supplier's 855 with every line status and
/// its 856, both for PO-2026-00042.
use crate::dispatch::x12::tests::read::{ACK_855, SHIP_856};

/// The 855 (or 856) for `number`.
fn for_order(text: &str, number: &str) -> String {
    text.replace("PO-2026-00042", number)
}

struct Practice {
    _dir: tempfile::TempDir,
    db: Db,
    root: PathBuf,
    /// MedSupply's sent order of six lines, and its number.
    order: i64,
    number: String,
}

impl Practice {
    fn inbox(&self) -> PathBuf {
        self.root.join("med-in")
    }

    fn drop_file(&self, name: &str, text: &str) -> PathBuf {
        std::fs::create_dir_all(self.inbox()).unwrap();
        let path = self.inbox().join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    fn check(&self) -> Result<Report, JobError> {
        Check {
            db: self.db.clone(),
            root: self.root.clone(),
            env: env(),
            now: SystemClock.now(),
            settle: Duration::ZERO,
        }
        .run()
    }

    fn order(&self, id: i64) -> orders::Order {
        self.db
            .read_blocking(|c| orders::get(c, id, env().today).map_err(DbError::from))
            .unwrap()
            .unwrap()
    }

    fn count(&self, sql: &str) -> i64 {
        self.db
            .read_blocking(|c| c.query_row(sql, [], |r| r.get(0)).map_err(DbError::from))
            .unwrap()
    }

    fn answers(&self) -> Answers {
        self.db
            .read_blocking(|c| answers(c, self.order).map_err(DbError::from))
            .unwrap()
    }

    fn files(&self) -> Vec<InboundFile> {
        self.db
            .read_blocking(|c| recent_files(c, 50).map_err(DbError::from))
            .unwrap()
    }
}

fn env() -> Env {
    Env {
        currency: "EUR".into(),
        today: time::macros::date!(2026 - 01 - 16),
    }
}

fn act(db: &Db, id: i64, action: Action) -> orders::Order {
    db.write_blocking(|tx| lifecycle::act(tx, &ctx(), &env(), id, action, &ActInput::default()))
        .unwrap()
}

/// An approved order of one pack of each of `supplier_items` (ids).
fn approved_order(db: &Db, supplier_id: i64, supplier_items: &[i64]) -> orders::Order {
    let o = db
        .write_blocking(|tx| {
            lifecycle::create(
                tx,
                &ctx(),
                &env(),
                &NewOrder {
                    supplier_id,
                    note: String::new(),
                    lines: supplier_items
                        .iter()
                        .map(|&id| LineInput {
                            supplier_item_id: Some(id),
                            item_id: None,
                            location_id: 1,
                            packs: 2,
                            note: String::new(),
                        })
                        .collect(),
                },
            )
        })
        .unwrap();
    act(db, o.id, Action::Submit)
}

/// MedSupply (EDI, inbox `med-in`) with the six items of the fixtures and
/// a sent order of them; OtherCo with an order of its own.
fn practice() -> Practice {
    let (dir, db) = crate::db::testing::migrated_db();
    db.write_blocking(|tx| {
        tx.execute_batch(
            r#"INSERT INTO users (id, username, display_name, role, password_hash, created_at, updated_at)
                 VALUES (2, 'max', 'Max', 'manager', 'x', 'now', 'now');
               INSERT INTO locations (id, name, kind, created_at, updated_at)
                 VALUES (1, 'Store', 'room', 'now', 'now');
               INSERT INTO items (id, code, name, unit, lot_tracked, expiry_tracked, created_at, updated_at) VALUES
                 (1, 'GLV-M', 'Nitrile gloves M', 'box', 1, 1, 'now', 'now'),
                 (2, 'THERM', 'Thermometer', 'each', 1, 0, 'now', 'now'),
                 (3, 'SWAB', 'Alcohol swabs', 'box', 0, 0, 'now', 'now'),
                 (4, 'MASK', 'Masks', 'box', 0, 0, 'now', 'now'),
                 (5, 'TAPE', 'Tape', 'roll', 0, 0, 'now', 'now'),
                 (6, 'SCALE', 'Scale', 'each', 0, 0, 'now', 'now');
               INSERT INTO suppliers (id, name, dispatch_channel, dispatch_settings, created_at, updated_at) VALUES
                 (1, 'MedSupply', 'edi_x12',
                  '{"sender_id": "RIVERSIDE", "receiver_qualifier": "01", "receiver_id": "123456789", "folder": "med-out", "inbox": "med-in"}',
                  'now', 'now'),
                 (2, 'OtherCo', 'manual', '{}', 'now', 'now');
               INSERT INTO supplier_items (id, supplier_id, item_id, supplier_code, pack_size, price_minor, currency, preferred, created_at, updated_at) VALUES
                 (1, 1, 1, 'GL-100', 1, 800, 'EUR', 1, 'now', 'now'),
                 (2, 1, 2, 'TH-9', 1, 1250, 'EUR', 1, 'now', 'now'),
                 (3, 1, 3, 'SW-1', 1, 450, 'EUR', 1, 'now', 'now'),
                 (4, 1, 4, 'MK-2', 1, 900, 'EUR', 1, 'now', 'now'),
                 (5, 1, 5, 'TP-1', 1, 200, 'EUR', 1, 'now', 'now'),
                 (6, 1, 6, 'SC-5', 1, 3000, 'EUR', 1, 'now', 'now'),
                 (7, 2, 1, 'O-GL', 1, 700, 'EUR', 1, 'now', 'now');"#,
        )
        .map_err(DbError::from)
    })
    .unwrap();
    let order = approved_order(&db, 1, &[1, 2, 3, 4, 5, 6]);
    let order = act(&db, order.id, Action::MarkSent);
    assert_eq!(order.state, OrderState::Sent);
    let root = dir.path().join("edi");
    std::fs::create_dir_all(&root).unwrap();
    Practice {
        _dir: dir,
        db,
        root,
        order: order.id,
        number: order.number,
    }
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.map(|e| e.unwrap().file_name().to_string_lossy().to_string())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// The files left in the inbox itself (not its subfolders).
fn waiting(p: &Practice) -> Vec<String> {
    names_in(&p.inbox())
        .into_iter()
        .filter(|n| n != PROCESSED && n != REJECTED)
        .collect()
}

#[test]
fn an_855_records_every_line_answer_and_acknowledges_the_order() {
    let p = practice();
    p.drop_file("ack-501.x12", &for_order(ACK_855, &p.number));

    let report = p.check().unwrap();

    assert_eq!((report.applied, report.rejected), (1, 0), "{report:?}");
    let order = p.order(p.order);
    assert_eq!(order.state, OrderState::Acknowledged);
    assert_eq!(order.expected_on, "2026-01-30", "the latest date given");
    let a = p.answers();
    let lines =
        p.db.read_blocking(|c| orders::lines(c, p.order).map_err(DbError::from))
            .unwrap();
    let said = |i: usize| -> Vec<String> {
        a.for_line(lines[i].id)
            .iter()
            .map(|l| l.describe())
            .collect()
    };
    assert_eq!(said(0), ["2 accepted (expected 2026-01-19)"]);
    assert_eq!(said(1), ["6 accepted", "4 back-ordered until 2026-01-30"]);
    assert_eq!(said(2), ["1 rejected"]);
    assert_eq!(said(3), ["3 substituted by MK-3 (expected 2026-01-19)"]);
    assert_eq!(said(4), ["4 changed"]);
    assert_eq!(said(5), ["1 accepted"]);
    // Recorded as applied, moved to processed/, acknowledged as the supplier.
    let files = p.files();
    assert_eq!(files.len(), 1);
    assert_eq!(
        (
            files[0].outcome.as_str(),
            files[0].order_id,
            files[0].transaction_sets.as_str()
        ),
        ("applied", Some(p.order), "855")
    );
    assert!(
        files[0].summary.contains("acknowledged"),
        "{}",
        files[0].summary
    );
    assert_eq!(waiting(&p), Vec::<String>::new());
    assert_eq!(names_in(&p.inbox().join(PROCESSED)), ["ack-501.x12"]);
    let actor: String = p
        .db
        .read_blocking(|c| {
            c.query_row(
                "SELECT actor_name FROM audit_log WHERE action = 'order.transition' ORDER BY id DESC LIMIT 1",
                [],
                |r| r.get(0),
            )
            .map_err(DbError::from)
        })
        .unwrap();
    assert_eq!(actor, "MedSupply (EDI file ack-501.x12)");
    assert_eq!(
        p.count(
            "SELECT count(*) FROM order_events WHERE action = 'acknowledge' AND actor = 'supplier'"
        ),
        1
    );
}

#[test]
fn an_856_sets_the_expected_delivery_and_records_the_shipped_lots() {
    let p = practice();
    p.drop_file("asn.x12", &for_order(SHIP_856, &p.number));

    let report = p.check().unwrap();

    assert_eq!(report.applied, 1, "{report:?}");
    let order = p.order(p.order);
    assert_eq!(order.expected_on, "2026-01-19");
    assert_eq!(
        order.state,
        OrderState::Sent,
        "a ship notice acknowledges nothing"
    );
    let a = p.answers();
    assert_eq!(a.shipments.len(), 1);
    let s = &a.shipments[0];
    assert_eq!(s.shipment_id, "SHP-7781");
    let got: Vec<(&str, i64, &str, &str)> = s
        .lines
        .iter()
        .map(|l| {
            (
                l.vendor_part.as_str(),
                l.quantity,
                l.lot.as_str(),
                l.expiry.as_str(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("GL-100", 2, "L2401", "2028-01-31"),
            ("TH-9", 5, "T-88", "")
        ]
    );
    let lots = |p: &Practice| -> Vec<String> {
        p.db.read_blocking(|c| expected_lots(c, p.order).map_err(DbError::from))
            .unwrap()
            .into_iter()
            .map(|e| format!("{} {}", e.lot, e.expiry))
            .collect()
    };
    assert_eq!(lots(&p), ["L2401 2028-01-31", "T-88 "]);

    // Once the gloves' lot is received, only the thermometers' is expected.
    let lines =
        p.db.read_blocking(|c| orders::lines(c, p.order).map_err(DbError::from))
            .unwrap();
    p.db.write_blocking(|tx| {
        receiving::receive(
            tx,
            &ctx(),
            &env(),
            p.order,
            &ReceiptInput {
                lines: vec![ReceiptLineInput {
                    order_line_id: lines[0].id,
                    quantity: 2,
                    lot: "l2401".into(),
                    expiry: "2028-01-31".into(),
                    ..ReceiptLineInput::default()
                }],
                ..ReceiptInput::default()
            },
        )
    })
    .unwrap();
    assert_eq!(lots(&p), ["T-88 "]);
}

#[test]
fn the_same_file_dropped_twice_is_applied_once() {
    let p = practice();
    let text = for_order(ACK_855, &p.number);
    p.drop_file("ack.x12", &text);
    assert_eq!(p.check().unwrap().applied, 1);
    // The supplier sends it again, under the same name and under another.
    p.drop_file("ack.x12", &text);
    p.drop_file("ack-again.x12", &text);

    let report = p.check().unwrap();

    assert_eq!((report.applied, report.finished), (0, 2), "{report:?}");
    assert_eq!(p.count("SELECT count(*) FROM edi_inbound_files"), 1);
    assert_eq!(p.count("SELECT count(*) FROM edi_line_acks"), 7);
    assert_eq!(
        p.count("SELECT count(*) FROM order_events WHERE action = 'acknowledge'"),
        1
    );
    assert_eq!(waiting(&p), Vec::<String>::new());
    assert_eq!(
        names_in(&p.inbox().join(PROCESSED)),
        ["ack-2.x12", "ack-again.x12", "ack.x12"],
        "nothing overwritten"
    );
}

#[test]
fn files_that_cannot_be_used_are_moved_aside_with_their_reason() {
    let p = practice();
    let other = approved_order(&p.db, 2, &[7]);
    let other = act(&p.db, other.id, Action::MarkSent);
    let cases = [
        (
            "unknown.x12",
            for_order(ACK_855, "PO-2026-09999"),
            "names order PO-2026-09999, which stockroom does not know: check the order number with MedSupply",
        ),
        (
            "others.x12",
            for_order(ACK_855, &other.number),
            "which was ordered from OtherCo, not from MedSupply",
        ),
        (
            "garbage.x12",
            "Dear customer, your order is on its way.".to_string(),
            "This is not an X12 file",
        ),
        (
            "cut-short.x12",
            for_order(ACK_855, &p.number).replace("IEA*1*000000501~\n", ""),
            "The X12 envelope does not add up",
        ),
        (
            "unknown-line.x12",
            for_order(ACK_855, &p.number)
                .replace("VP*SC-5", "VP*ZZ-0")
                .replace("BP*SCALE", "BP*NOPE"),
            "answers line 6 (their code ZZ-0, our code NOPE), which is not on order",
        ),
        (
            // Meant for another practice: it must not touch our order.
            "someone-elses.x12",
            for_order(ACK_855, &p.number)
                .replace("*ZZ*RIVERSIDE      *", "*ZZ*HILLTOP        *")
                .replace("*123456789*RIVERSIDE*", "*123456789*HILLTOP*"),
            "is addressed to ZZ:HILLTOP (ISA07/ISA08), but the supplier's settings say ZZ:RIVERSIDE (the practice)",
        ),
        (
            "from-someone-else.x12",
            for_order(ACK_855, &p.number)
                .replace("*01*123456789      *", "*01*987654321      *")
                .replace("*123456789*RIVERSIDE*", "*987654321*RIVERSIDE*"),
            "is from 01:987654321 (ISA05/ISA06), but the supplier's settings say 01:123456789",
        ),
        (
            "group-elsewhere.x12",
            for_order(ACK_855, &p.number).replace("*123456789*RIVERSIDE*", "*123456789*HILLTOP*"),
            "is in a group from/to 123456789 / HILLTOP (GS02/GS03)",
        ),
        (
            // ISA06 one character short: a 105-character header.
            "short-isa.x12",
            for_order(ACK_855, &p.number).replace("*01*123456789      *", "*01*123456789     *"),
            "ISA06 must be 15 characters long",
        ),
    ];
    for (name, text, _) in &cases {
        p.drop_file(name, text);
    }

    let report = p.check().unwrap();

    assert_eq!(
        (report.applied, report.rejected),
        (0, cases.len()),
        "{report:?}"
    );
    let files = p.files();
    for (name, _, reason) in &cases {
        let f = files.iter().find(|f| f.file_name == *name).unwrap();
        assert_eq!(f.outcome, "rejected", "{name}");
        assert!(
            f.reason.contains(reason),
            "{name}: {:?} should say {reason:?}",
            f.reason
        );
        let kept =
            std::fs::read_to_string(p.inbox().join(REJECTED).join(format!("{name}.reason.txt")))
                .unwrap();
        assert!(kept.contains(&f.reason), "{name}: {kept}");
        assert!(p.inbox().join(REJECTED).join(name).is_file(), "{name}");
    }
    assert_eq!(waiting(&p), Vec::<String>::new());
    // Nothing of them was applied.
    assert_eq!(p.order(p.order).state, OrderState::Sent);
    assert_eq!(p.order(other.id).state, OrderState::Sent);
    assert_eq!(p.count("SELECT count(*) FROM edi_line_acks"), 0);
    assert_eq!(
        p.count("SELECT count(*) FROM audit_log WHERE action = 'edi.inbound'"),
        cases.len() as i64
    );
}

#[test]
fn a_file_applies_whole_or_not_at_all() {
    let p = practice();
    // A good acknowledgment followed by a ship notice for an unknown order.
    let ack = for_order(ACK_855, &p.number);
    let ship = for_order(SHIP_856, "PO-2026-09999").replace("~\r\n", "~\n");
    let ship_set = &ship[ship.find("ST|").unwrap()..ship.find("GE|").unwrap()];
    let both = ack.replace(
        "GE*1*501~",
        &format!(
            "{}GE*2*501~",
            ship_set
                .replace('|', "*")
                .replace("ST*856*0001", "ST*856*0002")
                .replace("SE*20*0001", "SE*20*0002")
        ),
    );
    p.drop_file("both.x12", &both);

    let report = p.check().unwrap();

    assert_eq!(report.rejected, 1, "{report:?}");
    let f = &p.files()[0];
    assert_eq!(f.transaction_sets, "855 856");
    assert!(f.reason.contains("PO-2026-09999"), "{}", f.reason);
    assert_eq!(f.order_id, Some(p.order), "the order it named is linked");
    assert_eq!(
        p.order(p.order).state,
        OrderState::Sent,
        "the 855 was undone"
    );
    assert_eq!(p.count("SELECT count(*) FROM edi_line_acks"), 0);
    assert_eq!(
        p.count("SELECT count(*) FROM audit_log WHERE action = 'order.transition' AND actor_kind = 'anonymous'"),
        0
    );
}

#[test]
fn a_stop_between_commit_and_move_only_finishes_the_move() {
    let p = practice();
    let text = for_order(ACK_855, &p.number);
    let garbage = "not X12 at all";
    p.drop_file("ack.x12", &text);
    p.drop_file("junk.txt", garbage);
    // Both recorded and committed, then the process stops before moving them.
    for (name, body) in [("ack.x12", text.as_str()), ("junk.txt", garbage)] {
        let incoming = Incoming {
            supplier_id: 1,
            supplier: "MedSupply".into(),
            file_name: name.into(),
            sha256: hex::encode(Sha256::digest(body.as_bytes())),
            size: body.len() as u64,
            parsed: x12::parse(body).map_err(|e| e.to_string()),
        };
        let recorded =
            p.db.write_blocking(|tx| record(tx, &env(), SystemClock.now(), &incoming))
                .unwrap();
        assert!(matches!(recorded, Recorded::New(_)), "{recorded:?}");
    }
    assert_eq!(waiting(&p), ["ack.x12", "junk.txt"]);

    let report = p.check().unwrap();

    assert_eq!(
        (report.applied, report.rejected, report.finished),
        (0, 0, 2),
        "{report:?}"
    );
    assert_eq!(waiting(&p), Vec::<String>::new());
    assert_eq!(names_in(&p.inbox().join(PROCESSED)), ["ack.x12"]);
    assert_eq!(
        names_in(&p.inbox().join(REJECTED)),
        ["junk.txt", "junk.txt.reason.txt"]
    );
    assert_eq!(p.count("SELECT count(*) FROM edi_inbound_files"), 2);
    assert_eq!(
        p.count("SELECT count(*) FROM edi_line_acks"),
        7,
        "not applied twice"
    );
    assert_eq!(
        p.count("SELECT count(*) FROM order_events WHERE action = 'acknowledge'"),
        1
    );
}

#[test]
fn an_answer_for_an_order_still_being_sent_waits_in_the_inbox() {
    let p = practice();
    let queued = approved_order(&p.db, 1, &[1]);
    let queued = act(&p.db, queued.id, Action::Queue);
    assert_eq!(queued.state, OrderState::Queued);
    p.drop_file("early.x12", &for_order(ACK_855, &queued.number).replace(
        "PO1*2*10*EA*12.50**BP*THERM*VP*TH-9~\nACK*IA*6*EA~\nACK*IB*4*EA~\nDTM*067*20260130~\nPO1*3*1*CA*4.50**BP*SWAB*VP*SW-1~\nACK*IR*1*CA~\nPO1*4*3*CA*9.00**BP*MASK*VP*MK-2~\nACK*IS*3*CA*068*20260119**VP*MK-3~\nPO1*5*5*CA*2.00**BP*TAPE*VP*TP-1~\nACK*IQ*4*CA~\nPO1*6*1*EA*30.00**BP*SCALE*VP*SC-5~\nCTT*6~\nSE*17*0001~",
        "CTT*1~\nSE*6*0001~",
    ));

    let report = p.check().unwrap();

    assert_eq!(
        (report.waiting, report.applied, report.rejected),
        (1, 0, 0),
        "{report:?}"
    );
    assert_eq!(waiting(&p), ["early.x12"]);
    assert_eq!(p.count("SELECT count(*) FROM edi_inbound_files"), 0);

    // Sent now: the next look applies it.
    p.db.write_blocking(|tx| {
        lifecycle::act(
            tx,
            &Context::system(SystemClock.now()),
            &env(),
            queued.id,
            Action::DispatchSucceeded,
            &ActInput::default(),
        )
    })
    .unwrap();
    assert_eq!(p.check().unwrap().applied, 1);
    assert_eq!(p.order(queued.id).state, OrderState::Acknowledged);
    assert_eq!(p.order(queued.id).expected_on, "2026-01-19");
}

#[test]
fn a_rejected_order_is_not_acknowledged_and_its_lines_read_rejected() {
    let p = practice();
    let text = for_order(ACK_855, &p.number)
        .replace("BAK*00*AC*", "BAK*00*RJ*")
        .replace("ACK*IA*2*CA*068*20260119~\n", "");
    let text = text.replace("SE*17*0001", "SE*16*0001");
    p.drop_file("no.x12", &text);

    assert_eq!(p.check().unwrap().applied, 1);

    assert_eq!(p.order(p.order).state, OrderState::Sent);
    assert_eq!(
        p.count("SELECT count(*) FROM order_events WHERE action = 'supplier_rejected'"),
        1
    );
    let a = p.answers();
    let first = a.lines.iter().find(|l| l.quantity == Some(2)).unwrap();
    assert_eq!(
        first.status, "rejected",
        "a line without ACK is rejected with the order"
    );
    assert!(p.files()[0].summary.contains("rejected the order"));
}

#[test]
fn a_ship_notice_of_an_announced_substitute_belongs_to_its_line() {
    let p = practice();
    p.drop_file("1-ack.x12", &for_order(ACK_855, &p.number));
    assert_eq!(p.check().unwrap().applied, 1);
    // The masks (MK-2) come as MK-3, as the acknowledgment said.
    let ship = for_order(SHIP_856, &p.number).replace("LIN||BP|THERM|VP|TH-9~", "LIN||VP|MK-3~");
    p.drop_file("2-asn.x12", &ship);

    assert_eq!(p.check().unwrap().applied, 1);

    let masks: i64 =
        p.count("SELECT s.order_line_id FROM edi_shipped_lines s WHERE s.vendor_part = 'MK-3'");
    let line_of_masks = p.count("SELECT id FROM order_lines WHERE supplier_code = 'MK-2'");
    assert_eq!(masks, line_of_masks);
}

#[test]
fn files_still_arriving_are_left_for_the_next_look() {
    let p = practice();
    p.drop_file(".hidden", "x");
    p.drop_file("upload.x12.part", "x");
    p.drop_file("fresh.x12", &for_order(ACK_855, &p.number));
    let check = Check {
        db: p.db.clone(),
        root: p.root.clone(),
        env: env(),
        now: SystemClock.now(),
        settle: Duration::from_secs(3600),
    };

    let report = check.run().unwrap();

    assert_eq!(report, Report::default());
    assert_eq!(waiting(&p), [".hidden", "fresh.x12", "upload.x12.part"]);
    // Once settled it is taken up; the others still wait.
    assert_eq!(p.check().unwrap().applied, 1);
    assert_eq!(waiting(&p), [".hidden", "upload.x12.part"]);
}

#[test]
fn a_missing_root_is_retried_and_a_missing_inbox_made() {
    let p = practice();
    assert!(!p.inbox().exists());
    assert_eq!(p.check().unwrap(), Report::default());
    assert!(p.inbox().is_dir(), "the inbox is made");

    std::fs::remove_dir_all(&p.root).unwrap();
    let err = p.check().unwrap_err();
    assert!(
        matches!(&err, JobError::Retry(m) if m.contains("is not there (is the share mounted?)")),
        "{err:?}"
    );
}

#[test]
fn the_admin_list_shows_rejected_files_first_then_the_newest() {
    let p = practice();
    p.drop_file("1-ack.x12", &for_order(ACK_855, &p.number));
    assert_eq!(p.check().unwrap().applied, 1);
    p.drop_file("2-junk.txt", "junk");
    p.drop_file("3-asn.x12", &for_order(SHIP_856, &p.number));
    p.check().unwrap();

    let names: Vec<(String, String)> = p
        .files()
        .into_iter()
        .map(|f| (f.file_name, f.outcome))
        .collect();

    assert_eq!(
        names,
        [
            ("2-junk.txt".to_string(), "rejected".to_string()),
            ("3-asn.x12".into(), "applied".into()),
            ("1-ack.x12".into(), "applied".into()),
        ]
    );
}

#[test]
fn an_inbox_that_is_also_an_outbox_or_shared_is_not_looked_into() {
    let p = practice();
    p.db.write_blocking(|tx| {
        tx.execute_batch(
            r#"INSERT INTO suppliers (id, name, dispatch_channel, dispatch_settings, created_at, updated_at) VALUES
                 (3, 'CsvCo', 'csv_folder', '{"folder": "med-in"}', 'now', 'now')"#,
        )
        .map_err(DbError::from)
    })
    .unwrap();
    // An order written for CsvCo, in what MedSupply's settings call its inbox.
    p.drop_file("PO-2026-00077.csv", "order_number,line\n");

    let report = p.check().unwrap();

    assert_eq!((report.applied, report.rejected), (0, 0), "{report:?}");
    assert!(
        report.errors[0].contains("med-in is where orders to CsvCo are written"),
        "{report:?}"
    );
    assert_eq!(waiting(&p), ["PO-2026-00077.csv"], "left where it is");

    // Two suppliers sharing an inbox: neither is looked into.
    p.db.write_blocking(|tx| {
        tx.execute_batch(
            r#"UPDATE suppliers SET dispatch_channel = 'edi_x12',
                 dispatch_settings = '{"sender_id": "P", "receiver_id": "C", "folder": "csv-out", "inbox": "med-in"}'
               WHERE id = 3"#,
        )
        .map_err(DbError::from)
    })
    .unwrap();
    let report = p.check().unwrap();
    assert_eq!(report.errors.len(), 2, "{report:?}");
    assert!(
        report.errors[0].contains("also CsvCo's inbox"),
        "{report:?}"
    );
    assert_eq!(waiting(&p), ["PO-2026-00077.csv"]);
}
