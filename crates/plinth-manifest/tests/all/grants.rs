//! Grant strings (DESIGN §3.3): parse, display, and the two-sided effective set.
#![allow(clippy::unwrap_used)] // Tests may unwrap: a panic is a failed test.

use plinth_manifest::grant::GrantErrorKind;
use plinth_manifest::{Code, Grant, GrantError, GrantSet, ToDiagnostic};

fn g(text: &str) -> Grant {
    text.parse()
        .unwrap_or_else(|e| panic!("{text:?} should parse: {e}"))
}

fn custom(name: &str, scope: Option<&str>) -> Grant {
    Grant::Custom {
        name: name.into(),
        scope: scope.map(Into::into),
    }
}

#[test]
fn parse_and_display_round_trip() {
    let cases = [
        ("log", Grant::Log, "log"),
        ("config", Grant::Config, "config"),
        ("kv", Grant::Kv, "kv"),
        (
            "http:api.example.com",
            Grant::Http("api.example.com".into()),
            "http",
        ),
        (
            "http:*.github.io",
            Grant::Http("*.github.io".into()),
            "http",
        ),
        ("http:*", Grant::Http("*".into()), "http"),
        (
            "http:localhost:8080",
            Grant::Http("localhost:8080".into()),
            "http",
        ),
        ("fs.read:data", Grant::FsRead("data".into()), "fs.read"),
        ("fs.write:out", Grant::FsWrite("out".into()), "fs.write"),
        ("watch:waves", Grant::Watch("waves".into()), "watch"),
        (
            "events.publish:discovery",
            Grant::EventsPublish("discovery".into()),
            "events.publish",
        ),
        (
            "sockets:db.internal:5432",
            Grant::Sockets("db.internal:5432".into()),
            "sockets",
        ),
        ("retrieval", custom("retrieval", None), "retrieval"),
        (
            "retrieval:docs",
            custom("retrieval", Some("docs")),
            "retrieval",
        ),
        (
            "my-cap_2:a/b*",
            custom("my-cap_2", Some("a/b*")),
            "my-cap_2",
        ),
    ];
    for (text, grant, capability) in cases {
        let parsed = g(text);
        assert_eq!(parsed, grant, "{text}");
        assert_eq!(parsed.to_string(), text);
        assert_eq!(parsed.capability_name(), capability);
        assert_eq!(parsed.scope(), text.split_once(':').map(|(_, s)| s));
        let json = serde_json::to_string(&parsed).unwrap();
        assert_eq!(serde_json::from_str::<Grant>(&json).unwrap(), parsed);
    }
}

#[test]
fn malformed_grants_are_refused_with_a_reason() {
    use GrantErrorKind as K;
    let missing = |c: &str, f: &str| K::MissingScope {
        capability: c.into(),
        form: f.into(),
    };
    let unexpected = |c: &str| K::UnexpectedScope {
        capability: c.into(),
    };
    let unknown = |n: &str| K::UnknownCapability { name: n.into() };
    let cases = [
        ("", K::Empty),
        (" log", K::Whitespace),
        ("http: a.com", K::Whitespace),
        ("log\n", K::Whitespace),
        ("lög", K::BadCharacter('ö')),
        ("kv\u{7}", K::BadCharacter('\u{7}')),
        ("http", missing("http", "<host-pattern>")),
        ("fs.read", missing("fs.read", "<dir-name>")),
        ("fs.write", missing("fs.write", "<dir-name>")),
        ("watch", missing("watch", "<dir-name>")),
        ("events.publish", missing("events.publish", "<channel>")),
        ("sockets", missing("sockets", "<host:port>")),
        ("kv:x", unexpected("kv")),
        ("log:all", unexpected("log")),
        ("config:x", unexpected("config")),
        (
            "http:",
            K::EmptyScope {
                capability: "http".into(),
            },
        ),
        (
            "retrieval:",
            K::EmptyScope {
                capability: "retrieval".into(),
            },
        ),
        ("fs.exec:x", unknown("fs.exec")),
        ("fs:data", unknown("fs")),
        ("events:x", unknown("events")),
        ("event.publish:x", unknown("event.publish")),
    ];
    for (text, kind) in cases {
        let err = text.parse::<Grant>().unwrap_err();
        assert_eq!(
            err,
            GrantError {
                input: text.into(),
                kind
            },
            "{text:?}"
        );
        assert!(
            err.to_string()
                .starts_with(&format!("invalid grant {text:?}: "))
        );
    }
    // Scope grammars: the reason names the scope.
    let bad_scope = [
        ("http:API.example.com", "lower case"),
        ("http:ftp://a.com", "scheme other than"),
        ("http:http://a.com/x", "has a path"),
        ("http:a.*.com", "wildcard"),
        ("http:a.com:0", "bad port"),
        ("fs.read:/home/me", "is a path"),
        ("fs.write:..", "not a directory name"),
        ("watch:a/b", "is a path"),
        ("events.publish:a,b", "not a channel name"),
        ("sockets:db.internal", "needs a port"),
        ("retrieval:a\"b", "not a scope"),
    ];
    for (text, reason) in bad_scope {
        let err = text.parse::<Grant>().unwrap_err();
        assert!(
            matches!(&err.kind, K::BadScope { reason: r, .. } if r.contains(reason)),
            "{text}: {err}"
        );
    }
    for text in ["Retrieval", "1cap", "my_cap!"] {
        let err = text.parse::<Grant>().unwrap_err();
        assert!(
            matches!(err.kind, K::BadCapabilityName { .. }),
            "{text}: {err}"
        );
    }
}

#[test]
fn grant_error_is_a_bad_argument_diagnostic() {
    let d = "kv:x".parse::<Grant>().unwrap_err().to_diagnostic();
    assert_eq!(d.code, Code::BadArgument);
    assert!(d.message.contains("`kv` takes no scope"), "{}", d.message);
    assert!(d.hint.is_some());
}

#[test]
fn covers_table() {
    let cases = [
        ("log", "log", true),
        ("log", "kv", false),
        ("fs.write:out", "fs.read:out", true),
        ("fs.read:out", "fs.write:out", false),
        ("fs.write:out", "fs.read:data", false),
        ("http:*.example.com", "http:api.example.com", true),
        ("http:*.example.com", "http:example.com", false),
        ("http:api.example.com", "http:*.example.com", false),
        ("http:*", "http:api.example.com", true),
        ("http:*.example.com", "http:api.example.com:8080", false),
        ("http:http://intranet.lan", "http:intranet.lan", true),
        ("http:intranet.lan", "http:http://intranet.lan", false),
        ("http:https://intranet.lan", "http:intranet.lan", true),
        ("sockets:*.internal:5432", "sockets:db.internal:5432", true),
        ("sockets:*.internal:5432", "sockets:db.internal:5433", false),
        ("retrieval", "retrieval:docs", true),
        ("retrieval:docs", "retrieval", false),
        ("retrieval:docs", "retrieval:web", false),
        ("retrieval", "search", false),
        ("watch:data", "fs.read:data", false),
    ];
    for (a, b, expected) in cases {
        assert_eq!(g(a).covers(&g(b)), expected, "{a} covers {b}");
    }
}

#[test]
fn effective_grants_table() {
    // (manifest requests, operator grants, effective)
    let cases: &[(&[&str], &[&str], &[&str])] = &[
        (&["log", "kv"], &["log", "kv"], &["kv", "log"]),
        (&["log"], &["log", "kv"], &["log"]),
        (&["log", "kv"], &[], &[]),
        (&[], &["log", "http:*"], &[]),
        (&["fs.write:out"], &["fs.read:out"], &["fs.read:out"]),
        (&["fs.read:out"], &["fs.write:out"], &["fs.read:out"]),
        (&["fs.read:data"], &["fs.read:other"], &[]),
        (
            &["http:*.example.com"],
            &["http:api.example.com", "http:evil.com"],
            &["http:api.example.com"],
        ),
        (
            &["http:api.example.com"],
            &["http:*.example.com"],
            &["http:api.example.com"],
        ),
        (&["http:example.com"], &["http:*.example.com"], &[]),
        (&["retrieval"], &["retrieval:docs"], &["retrieval:docs"]),
        (&["retrieval:docs"], &["retrieval"], &["retrieval:docs"]),
        (&["retrieval:docs"], &["retrieval:web"], &[]),
        (
            &["events.publish:a"],
            &["events.publish:a", "events.publish:b"],
            &["events.publish:a"],
        ),
    ];
    for (requested, granted, effective) in cases {
        let requested: Vec<Grant> = requested.iter().map(|s| g(s)).collect();
        let granted = GrantSet::parse_all(granted.iter()).unwrap();
        let got: Vec<String> = GrantSet::effective(&requested, &granted)
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>();
        let mut want: Vec<String> = effective.iter().map(|s| s.to_string()).collect();
        let mut got_sorted = got.clone();
        got_sorted.sort();
        want.sort();
        assert_eq!(
            got_sorted, want,
            "requested {requested:?} granted {granted:?}"
        );
    }
}

#[test]
fn ungranted_and_unrequested() {
    let requested = vec![g("log"), g("http:*.example.com"), g("kv")];
    let granted = GrantSet::parse_all(["log", "http:api.example.com", "fs.read:data"]).unwrap();
    assert_eq!(GrantSet::ungranted(&requested, &granted), [g("kv")]);
    assert!(g("http:api.example.com").is_requested(&requested));
    assert!(!g("fs.read:data").is_requested(&requested));
}

#[test]
fn grant_set_basics() {
    let mut set = GrantSet::parse_all(vec!["kv".to_string(), "log".into(), "kv".into()]).unwrap();
    assert_eq!(set.len(), 2);
    assert!(set.contains(&Grant::Kv));
    assert!(!set.contains(&g("fs.read:data")));
    assert!(set.insert(g("fs.write:data")));
    assert!(!set.contains(&g("fs.read:data")));
    assert!(set.allows(&g("fs.read:data")));
    assert!(set.remove(&Grant::Kv));
    assert!(!set.is_empty());
    let err = GrantSet::parse_all(["log", "bogus.cap:x"]).unwrap_err();
    assert_eq!(err.input, "bogus.cap:x");
    let json = serde_json::to_string(&set).unwrap();
    assert_eq!(serde_json::from_str::<GrantSet>(&json).unwrap(), set);
    assert!(serde_json::from_str::<GrantSet>("[\"kv:x\"]").is_err());
}

/// IPv6 literals are written as in URLs, in brackets, with or without a port, and print back
/// in their canonical spelling.
#[test]
fn ipv6_literal_grants() {
    for (text, printed) in [
        ("http:[::1]:8080", "http:[::1]:8080"),
        ("http:[fd00::2]:443", "http:[fd00::2]:443"),
        ("http:http://[0:0::1]", "http:http://[::1]"),
        ("sockets:[fd00::5]:5432", "sockets:[fd00::5]:5432"),
    ] {
        let grant: Grant = text.parse().unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(grant.to_string(), printed);
    }
    assert!("http:[::1".parse::<Grant>().is_err());
    assert!(
        "sockets:[::1]".parse::<Grant>().is_err(),
        "a socket grant needs a port"
    );
}
