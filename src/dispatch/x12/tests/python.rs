//! stockroom's 850 read by pyx12, an X12 reader written independently of
//! stockroom's own (tests/x12/check_850.py; scripts/test installs it).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};

use super::*;

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn python() -> PathBuf {
    let python = manifest_dir().join("target/pytools/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run scripts/test to install the X12 test parser",
        python.display()
    );
    python
}

/// Whether check_850.py passes `x12`, and its JSON summary.
fn check(x12: &str) -> (bool, Value) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("order.850");
    std::fs::write(&file, x12).unwrap();
    let out = Command::new(python())
        .arg(manifest_dir().join("tests/x12/check_850.py"))
        .arg(&file)
        .output()
        .expect("check_850.py runs");
    let summary = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "check_850.py printed no JSON ({e}):\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.success(), summary)
}

#[test]
fn an_independent_x12_parser_accepts_the_850() {
    let (ok, s) = check(&po850());
    assert!(ok, "{s:#}");
    assert_eq!(s["problems"], json!([]));
    assert_eq!(
        s["separators"],
        json!({"element": "*", "component": ">", "segment": "~"})
    );
    for (key, value) in [
        ("interchanges", json!(1)),
        ("isa13", json!("000000042")),
        ("iea02", json!("000000042")),
        ("iea01", json!("1")),
        ("groups", json!(1)),
        ("gs06", json!("7")),
        ("ge02", json!("7")),
        ("ge01", json!("1")),
        ("transactions", json!(1)),
        ("st01", json!("850")),
        ("st02", json!("0003")),
        ("se02", json!("0003")),
        ("se01", json!("19")),
        ("segments_counted", json!(19)),
        ("po_number", json!("PO-2026-00042")),
        ("po1", json!(2)),
        ("ctt01", json!("2")),
    ] {
        assert_eq!(s[key], value, "{key} in {s:#}");
    }
}

#[test]
fn an_independent_x12_parser_accepts_an_850_with_awkward_text() {
    let mut d = detail();
    d.order.note = format!("Ring*twice~ {}", "then wait ".repeat(60));
    d.lines = (1..=30)
        .map(|i| {
            let name = format!("Item {i} *~>^ {}", "long name ".repeat(i as usize));
            line(
                &format!("IT-{i}"),
                &format!("S*{i}"),
                &name,
                i % 3,
                i,
                100 * i,
            )
        })
        .collect();
    let p = Practice {
        name: "Dr. A*B~C>D Ärztehaus".into(),
        address: "1 High*Street~\nTown>\nLine 3\nLine 4\nLine 5\n".into(),
        ..practice()
    };
    let c = Controls {
        interchange: 999_999_999,
        group: 999_999_999,
        transaction: 999_999_999,
    };
    let x12 = purchase_order_850(&settings(), c, at(), &p, &supplier(), &d);
    let (ok, s) = check(&x12);
    assert!(ok, "{s:#}\n{x12}");
    assert_eq!(s["po1"], json!(30));
    assert_eq!(s["ctt01"], json!("30"));
    assert_eq!(s["isa13"], json!("999999999"));
}

#[test]
fn the_independent_check_refuses_a_broken_850() {
    let cases = [
        (
            "SE*19*0003",
            "SE*18*0003",
            "SE count of 18 for SE02=0003 is wrong",
        ),
        (
            "SE*19*0003",
            "SE*19*0004",
            "SE id=0004 does not match ST id=0003",
        ),
        ("GE*1*7", "GE*1*8", "GE id=8 does not match GS id=7"),
        ("GE*1*7", "GE*2*7", "GE count of 2 for GE02=7 is wrong"),
        (
            "IEA*1*000000042",
            "IEA*1*000000043",
            "IEA id=000000043 does not match",
        ),
        ("IEA*1*", "IEA*2*", "IEA count for IEA02=000000042 is wrong"),
        (
            "CTT*2*7",
            "CTT*3*7",
            "expected CTT01 equals the number of PO1 segments",
        ),
        (
            "PID*F****Ear thermometer",
            &format!("PID*F****{}", "x".repeat(81)),
            "PID05 is 81 characters",
        ),
    ];
    for (from, to, problem) in cases {
        assert!(po850().contains(from), "{from}");
        let (ok, s) = check(&po850().replacen(from, to, 1));
        assert!(!ok, "{from} → {to} passed: {s:#}");
        let problems = s["problems"].to_string();
        assert!(
            problems.contains(problem),
            "{problems}\nshould say: {problem}"
        );
    }
}
