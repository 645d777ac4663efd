use super::*;

#[test]
fn sound_settings_are_accepted() {
    assert_eq!(settings().validate(), Ok(()));
    let no_inbox = Settings {
        inbox: String::new(),
        sender_qualifier: "12".into(),
        sender_id: "4420795550123".into(),
        ..settings()
    };
    assert_eq!(no_inbox.validate(), Ok(()));
}

#[test]
fn each_bad_setting_is_named_with_its_reason() {
    let cases: [(Settings, &str, &str); 10] = [
        (
            Settings {
                sender_qualifier: "XX".into(),
                ..settings()
            },
            "sender_qualifier",
            "not an X12 id qualifier",
        ),
        (
            Settings {
                receiver_qualifier: "zz".into(),
                ..settings()
            },
            "receiver_qualifier",
            "not an X12 id qualifier",
        ),
        (
            Settings {
                sender_id: String::new(),
                ..settings()
            },
            "sender_id",
            "1 to 15 characters",
        ),
        (
            Settings {
                sender_id: "A".repeat(16),
                ..settings()
            },
            "sender_id",
            "1 to 15 characters",
        ),
        (
            Settings {
                receiver_id: "MED SUPPLY".into(),
                ..settings()
            },
            "receiver_id",
            "without spaces",
        ),
        (
            Settings {
                receiver_id: "MED*SUPPLY".into(),
                ..settings()
            },
            "receiver_id",
            "capital letters",
        ),
        (
            Settings {
                receiver_id: "medsupply".into(),
                ..settings()
            },
            "receiver_id",
            "capital letters",
        ),
        (
            Settings {
                folder: "../out".into(),
                ..settings()
            },
            "folder",
            "folder name",
        ),
        (
            Settings {
                inbox: ".in".into(),
                ..settings()
            },
            "inbox",
            "folder name",
        ),
        (
            Settings {
                inbox: "medsupply-out".into(),
                ..settings()
            },
            "inbox",
            "must differ",
        ),
    ];
    for (s, field, message) in cases {
        let errors = s.validate().expect_err(field);
        assert_eq!(errors.0.len(), 1, "{field}: {errors}");
        assert_eq!(errors.0[0].field, field);
        assert!(
            errors.0[0].message.contains(message),
            "{field}: {:?} should say {message:?}",
            errors.0[0].message
        );
    }
}

#[test]
fn every_problem_is_reported_at_once() {
    let s = Settings {
        sender_qualifier: String::new(),
        sender_id: "we are".into(),
        receiver_qualifier: "Q".into(),
        receiver_id: String::new(),
        folder: String::new(),
        inbox: "/etc".into(),
        test: false,
        email_to: Vec::new(),
    };
    let fields: Vec<String> = s
        .validate()
        .unwrap_err()
        .0
        .into_iter()
        .map(|e| e.field)
        .collect();
    assert_eq!(
        fields,
        [
            "sender_qualifier",
            "receiver_qualifier",
            "sender_id",
            "receiver_id",
            "folder",
            "inbox"
        ]
    );
}

#[test]
fn settings_read_from_json_with_defaults() {
    let s: Settings = serde_json::from_str(
        r#"{"sender_id": "RIVERSIDE", "receiver_id": "123456789", "folder": "edi"}"#,
    )
    .unwrap();
    assert_eq!(
        s,
        Settings {
            sender_qualifier: "ZZ".into(),
            sender_id: "RIVERSIDE".into(),
            receiver_qualifier: "ZZ".into(),
            receiver_id: "123456789".into(),
            folder: "edi".into(),
            inbox: String::new(),
            test: false,
            email_to: Vec::new(),
        }
    );
    let back: Settings = serde_json::from_value(serde_json::to_value(settings()).unwrap()).unwrap();
    assert_eq!(back, settings());
}

#[test]
fn by_email_the_folder_may_be_left_out_and_the_addresses_are_checked() {
    let by_email = |to: &[&str], folder: &str| Settings {
        folder: folder.into(),
        inbox: String::new(),
        email_to: to.iter().map(|a| a.to_string()).collect(),
        ..settings()
    };
    assert_eq!(by_email(&["edi@supplier.example"], "").validate(), Ok(()));
    let e = by_email(&["not an address"], "").validate().unwrap_err();
    assert!(e.get("email_to").is_some(), "{e}");
    let e = by_email(&[], "").validate().unwrap_err();
    assert!(e.get("folder").is_some(), "a folder without email: {e}");
}
