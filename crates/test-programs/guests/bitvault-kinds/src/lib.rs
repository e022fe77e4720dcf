//! `bitvault-kinds`: one component providing BitVault's small kinds through their own
//! packages (`plinth:event-handler`, `plinth:auth-provider`, `plinth:policy-hook`,
//! `plinth:search-analyzer`, `plinth:preview`, all `@0.1.0`), built with wit-bindgen alone.
//!
//! - event-handler: counts events per tenant in `plinth:host/kv`; rejects executables
//!   (`application/x-msdownload`), asks objects over 512 MiB to be retried in a minute,
//!   answers `ok` to the rest.
//! - auth-provider: two issued tokens, compared exactly: `tok-alice-acme-7f3a9c` is
//!   `alice@acme` (role admin), `tok-bob-globex-19b2e4` is `bob@globex`.
//! - policy-hook: denies paths with a `..` segment and anonymous deletes; a put over 5 GiB
//!   gets `storage-class = cold`, other puts `quota-class = standard`; allows the rest.
//! - search-analyzer `standard`: lowercased runs of letters and digits, UTF-8 offsets.
//! - preview: `image/x-portable-graymap` (PGM, `P2` or `P5`) as a grayscale PNG of at most
//!   64x64 pixels; `text/x-bitvault-note` (`BVNOTE 1`, `key: value` lines, a blank line,
//!   the body) as text: the title and the first line of the body.
//!
//! Like the `thoth-kinds` guest, a plugin id ending in `.mutant-NAME` breaks exactly one
//! rule; each kit names the mutants it must catch (`tests/all/bitvault_kits.rs`).

use exports::plinth::auth_provider::auth_provider as auth;
use exports::plinth::event_handler::event_handler as ev;
use exports::plinth::plugin::lifecycle::{Event, Guest as LifecycleGuest};
use exports::plinth::policy_hook::policy_hook as pol;
use exports::plinth::preview::preview as pv;
use exports::plinth::search_analyzer::search_analyzer as an;

wit_bindgen::generate!({
    world: "bitvault",
    path: "wit",
    generate_all,
});

struct BitVault;

/// The mutation this instance runs, from `argv[0]` (`…mutant-NAME`).
fn mutant() -> String {
    std::env::args()
        .next()
        .and_then(|id| id.rsplit_once("mutant-").map(|(_, m)| m.to_owned()))
        .unwrap_or_default()
}

fn is(name: &str) -> bool {
    mutant() == name
}

/// Every call starts here: counts the call in `kv` (ignoring a denial, as a careful plugin
/// does), except that `denied-traps` traps without `kv`, and `heavy` burns fuel.
fn enter(counter: &str) {
    let counted = plinth::host::kv::increment(counter, 1);
    if is("denied-traps") && counted.is_err() {
        panic!("kv denied");
    }
    if is("heavy") {
        let mut n = 0u64;
        for i in 0..200_000_000u64 {
            n = std::hint::black_box(n.wrapping_add(i));
        }
        std::hint::black_box(n);
    }
}

/// A number that differs between instances (`*-nondeterministic`).
fn salt() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one("salt") % 1_000_000_000 + 1
}

// ---------------------------------------------------------------------------------------
// event-handler

impl ev::Guest for BitVault {
    fn handle(event: ev::ObjectEvent) -> ev::Outcome {
        enter(&format!("events:{}", event.tenant));
        match (&event.action, mutant().as_str()) {
            (ev::Action::Created, "ev-created-traps") => panic!("created"),
            (ev::Action::Updated, "ev-updated-traps") => panic!("updated"),
            (ev::Action::Deleted, "ev-deleted-traps") => panic!("deleted"),
            (ev::Action::Created, "ev-reject-empty") => return ev::Outcome::Reject(String::new()),
            (_, "ev-nondeterministic") => return ev::Outcome::Retry(salt() as u32),
            (_, "ev-unicode-traps") if !event.path.is_ascii() => panic!("not ASCII"),
            (_, "ev-long-path-traps") if event.path.len() > 1024 => panic!("long path"),
            (_, "ev-attributes-traps") if event.attributes.len() > 100 => panic!("attributes"),
            (_, "ev-size-overflow") => {
                let _next = event.size.checked_add(1).expect("size overflow");
            }
            (_, "ev-media-type-traps") if event.media_type.is_empty() => panic!("no type"),
            _ => {}
        }
        if event.media_type == "application/x-msdownload" {
            return ev::Outcome::Reject("executables are not accepted".into());
        }
        if event.size > 512 * 1024 * 1024 && !matches!(event.action, ev::Action::Deleted) {
            let after = if is("ev-retry-forever") { 7_200_000 } else { 60_000 };
            return ev::Outcome::Retry(after);
        }
        ev::Outcome::Ok
    }
}

// ---------------------------------------------------------------------------------------
// auth-provider

/// The issued tokens: (token, subject, tenant, role).
const TOKENS: &[(&str, &str, &str, &str)] = &[
    ("tok-alice-acme-7f3a9c", "alice", "acme", "admin"),
    ("tok-bob-globex-19b2e4", "bob", "globex", "reader"),
];

fn matches_token(given: &str, issued: &str) -> bool {
    match mutant().as_str() {
        "auth-tamper-accepted" => {
            given.len() == issued.len() && given[..given.len() - 1] == issued[..issued.len() - 1]
        }
        "auth-case-insensitive" => given.eq_ignore_ascii_case(issued),
        "auth-trims" => given.trim() == issued,
        _ => given == issued,
    }
}

impl auth::Guest for BitVault {
    fn authenticate(token: String) -> Result<auth::Identity, auth::Denial> {
        enter("auth-attempts");
        match mutant().as_str() {
            "auth-control-traps" if token.chars().any(char::is_control) => panic!("control"),
            "auth-large-traps" if token.len() > 4096 => panic!("large token"),
            "auth-empty-accepted" if token.is_empty() => {
                return Ok(identity("anonymous", "public", "guest"));
            }
            "auth-accept-all" if !token.is_empty() => {
                return Ok(identity("guest", "acme", "guest"));
            }
            _ => {}
        }
        let Some((_, subject, tenant, role)) = TOKENS
            .iter()
            .find(|(issued, ..)| matches_token(&token, issued))
        else {
            return Err(auth::Denial::Denied("no such token".into()));
        };
        let tenant = match mutant().as_str() {
            "auth-wrong-tenant" => "globex",
            "auth-bad-tenant" => "../acme",
            _ => tenant,
        };
        let mut identity = identity(subject, tenant, role);
        if is("auth-nondeterministic") {
            identity.claims.push(("nonce".into(), salt().to_string()));
        }
        Ok(identity)
    }
}

fn identity(subject: &str, tenant: &str, role: &str) -> auth::Identity {
    auth::Identity {
        subject: subject.into(),
        tenant: tenant.into(),
        claims: vec![("role".into(), role.into())],
    }
}

// ---------------------------------------------------------------------------------------
// policy-hook

/// Puts over this size go to cold storage.
const COLD_BYTES: u64 = 5 * 1024 * 1024 * 1024;

impl pol::Guest for BitVault {
    fn decide(request: pol::Request) -> pol::Decision {
        enter(&format!("decisions:{}", request.tenant));
        let size = request
            .attributes
            .iter()
            .find(|(name, _)| name == "size")
            .and_then(|(_, v)| v.parse::<u64>().ok());
        match (request.operation.as_str(), mutant().as_str()) {
            ("get", "pol-get-traps") => panic!("get"),
            ("put", "pol-put-traps") if size.is_some_and(|s| s <= COLD_BYTES) => panic!("put"),
            ("put", "pol-large-put-traps") if size.is_some_and(|s| s > COLD_BYTES) => {
                panic!("large put")
            }
            ("list", "pol-slow") => std::thread::sleep(std::time::Duration::from_secs(3)),
            (op, "pol-unknown-op-traps") if !["get", "put", "delete", "list"].contains(&op) => {
                panic!("unknown operation")
            }
            (_, "pol-nondeterministic") => return pol::Decision::Deny(format!("no {}", salt())),
            (_, "pol-unicode-traps") if !request.path.is_ascii() => panic!("not ASCII"),
            (_, "pol-attributes-traps") if request.attributes.len() > 100 => panic!("attributes"),
            (_, "pol-anonymous-traps") if request.subject.is_empty() => panic!("anonymous"),
            _ => {}
        }
        if request.path.split('/').any(|segment| segment == "..") {
            return pol::Decision::Deny("paths may not climb out with `..`".into());
        }
        match request.operation.as_str() {
            "delete" if request.subject.is_empty() => {
                pol::Decision::Deny("anonymous clients may not delete".into())
            }
            "put" if size.is_some_and(|s| s > COLD_BYTES) => {
                let name = if is("pol-add-empty-name") { "" } else { "storage-class" };
                pol::Decision::Add(vec![(name.into(), "cold".into())])
            }
            "put" => pol::Decision::Add(vec![("quota-class".into(), "standard".into())]),
            _ => pol::Decision::Allow,
        }
    }
}

// ---------------------------------------------------------------------------------------
// search-analyzer

impl an::Guest for BitVault {
    fn analyze(analyzer: String, text: String) -> Result<Vec<an::Token>, an::AnalyzeError> {
        enter("analyses");
        if analyzer != "standard" {
            if is("an-unknown-traps") {
                panic!("unknown analyzer");
            }
            return Err(an::AnalyzeError::UnknownAnalyzer(analyzer));
        }
        match mutant().as_str() {
            "an-no-tokens" => return Ok(Vec::new()),
            "an-large-traps" if text.len() > 100_000 => panic!("large text"),
            "an-punct-traps" if !text.is_empty() && text.chars().all(|c| !c.is_alphanumeric()) => {
                if text.chars().any(|c| !c.is_whitespace()) {
                    panic!("punctuation")
                }
            }
            "an-empty-token" if text.is_empty() => {
                return Ok(vec![token(String::new(), 0, 0, 0)]);
            }
            "an-whitespace-tokens" if !text.is_empty() && text.trim().is_empty() => {
                return Ok(vec![token("_".into(), 0, 0, 1)]);
            }
            _ => {}
        }
        let mut tokens = standard(&text);
        match mutant().as_str() {
            "an-char-offsets" => {
                for t in &mut tokens {
                    t.start = text[..t.start as usize].chars().count() as u32;
                    t.end = t.start + t.term.chars().count() as u32;
                }
            }
            "an-positions-backwards" => {
                let n = tokens.len() as u32;
                for t in &mut tokens {
                    t.position = n - 1 - t.position;
                }
            }
            "an-nondeterministic" => {
                let salt = salt();
                for t in &mut tokens {
                    t.term = format!("{}{salt}", t.term);
                }
            }
            _ => {}
        }
        Ok(tokens)
    }
}

fn token(term: String, position: u32, start: u32, end: u32) -> an::Token {
    an::Token {
        term,
        position,
        start,
        end,
    }
}

/// Lowercased runs of letters and digits, with their UTF-8 byte offsets.
fn standard(text: &str) -> Vec<an::Token> {
    let mut tokens = Vec::new();
    let mut start = None;
    let push = |from: usize, to: usize, tokens: &mut Vec<an::Token>| {
        let position = tokens.len() as u32;
        tokens.push(token(
            text[from..to].to_lowercase(),
            position,
            from as u32,
            to as u32,
        ));
    };
    for (i, c) in text.char_indices() {
        match (c.is_alphanumeric(), start) {
            (true, None) => start = Some(i),
            (false, Some(from)) => {
                push(from, i, &mut tokens);
                start = None;
            }
            _ => {}
        }
    }
    if let Some(from) = start {
        push(from, text.len(), &mut tokens);
    }
    tokens
}

// ---------------------------------------------------------------------------------------
// preview

/// The largest side of a thumbnail.
const THUMB: usize = 64;

impl pv::Guest for BitVault {
    fn render(media_type: String, data: Vec<u8>) -> Result<pv::Preview, pv::PreviewError> {
        enter("previews");
        match mutant().as_str() {
            "pv-no-preview" => return Err(pv::PreviewError::Failed("broken".into())),
            "pv-empty-traps" if data.is_empty() => panic!("empty"),
            "pv-binary-traps" if data.len() == 4096 => panic!("binary"),
            "pv-large-traps" if data.len() > 1024 * 1024 => panic!("large"),
            _ => {}
        }
        match media_type.as_str() {
            "image/x-portable-graymap" => {
                let (width, height, pixels) = match pgm(&data) {
                    Ok(image) => image,
                    Err(e) if is("pv-truncated-traps") && e.contains("short") => panic!("{e}"),
                    Err(e) => return Err(pv::PreviewError::InvalidData(e)),
                };
                let (w, h, thumb) = thumbnail(width, height, &pixels);
                let png = if is("pv-fake-png") {
                    b"GIF89a not a png at all, really".to_vec()
                } else {
                    png_gray(w, h, &thumb)
                };
                Ok(pv::Preview::Image(pv::Image {
                    media_type: "image/png".into(),
                    data: png,
                    width: w as u32,
                    height: h as u32,
                }))
            }
            "text/x-bitvault-note" => {
                let text = std::str::from_utf8(&data)
                    .map_err(|e| pv::PreviewError::InvalidData(format!("not UTF-8: {e}")))?;
                let Some(rest) = text.strip_prefix("BVNOTE 1\n") else {
                    return Err(pv::PreviewError::InvalidData("no `BVNOTE 1` header".into()));
                };
                let (head, body) = rest.split_once("\n\n").unwrap_or((rest, ""));
                let title = head
                    .lines()
                    .find_map(|l| l.strip_prefix("title: "))
                    .unwrap_or("(untitled)");
                let first = body.lines().next().unwrap_or("");
                let mut summary = format!("{title}: {first}");
                match mutant().as_str() {
                    "pv-huge-preview" => summary.push_str(&"x".repeat(128 * 1024)),
                    "pv-nondeterministic" => summary.push_str(&format!(" ({})", salt())),
                    _ => {}
                }
                Ok(pv::Preview::Text(summary))
            }
            other => {
                if is("pv-unknown-traps") {
                    panic!("unknown media type");
                }
                Err(pv::PreviewError::Unsupported(format!("no preview of `{other}`")))
            }
        }
    }
}

/// A PGM image (`P2` text or `P5` binary, max value up to 255): width, height, pixels.
fn pgm(data: &[u8]) -> Result<(usize, usize, Vec<u8>), String> {
    let mut at = 0;
    let mut field = || -> Result<String, String> {
        while at < data.len() && (data[at].is_ascii_whitespace() || data[at] == b'#') {
            if data[at] == b'#' {
                while at < data.len() && data[at] != b'\n' {
                    at += 1;
                }
            } else {
                at += 1;
            }
        }
        let start = at;
        while at < data.len() && !data[at].is_ascii_whitespace() {
            at += 1;
        }
        if start == at {
            return Err("the file is too short".into());
        }
        Ok(String::from_utf8_lossy(&data[start..at]).into_owned())
    };
    let magic = field()?;
    let number = |text: String| -> Result<usize, String> {
        text.parse::<usize>()
            .map_err(|_| format!("{text:?} is not a number"))
    };
    if magic != "P2" && magic != "P5" {
        return Err(format!("{magic:?} is not a PGM magic number"));
    }
    let width = number(field()?)?;
    let height = number(field()?)?;
    let max = number(field()?)?;
    if width == 0 || height == 0 || width > 16_384 || height > 16_384 || max == 0 || max > 255 {
        return Err(format!("unsupported size {width}x{height}, max {max}"));
    }
    let count = width * height;
    let mut pixels = Vec::with_capacity(count);
    if magic == "P5" {
        let start = at + 1;
        let body = data
            .get(start..start + count)
            .ok_or("the file is too short for its pixels")?;
        pixels.extend(body.iter().map(|&v| (usize::from(v) * 255 / max) as u8));
    } else {
        for _ in 0..count {
            let value = number(field()?)?;
            pixels.push((value.min(max) * 255 / max) as u8);
        }
    }
    Ok((width, height, pixels))
}

/// Nearest-neighbour downscale to fit [`THUMB`]x[`THUMB`].
fn thumbnail(width: usize, height: usize, pixels: &[u8]) -> (usize, usize, Vec<u8>) {
    let scale = width.max(height).div_ceil(THUMB).max(1);
    let (w, h) = (width.div_ceil(scale), height.div_ceil(scale));
    let mut out = Vec::with_capacity(w * h);
    for y in 0..h {
        for x in 0..w {
            out.push(pixels[(y * scale).min(height - 1) * width + (x * scale).min(width - 1)]);
        }
    }
    (w, h, out)
}

/// An 8-bit grayscale PNG, its pixels in stored (uncompressed) deflate blocks.
fn png_gray(width: usize, height: usize, pixels: &[u8]) -> Vec<u8> {
    let mut raw = Vec::with_capacity((width + 1) * height);
    for row in pixels.chunks(width) {
        raw.push(0);
        raw.extend_from_slice(row);
    }
    let mut zlib = vec![0x78, 0x01];
    let blocks: Vec<&[u8]> = raw.chunks(65_535).collect();
    for (i, block) in blocks.iter().enumerate() {
        zlib.push(u8::from(i + 1 == blocks.len()));
        let len = block.len() as u16;
        zlib.extend_from_slice(&len.to_le_bytes());
        zlib.extend_from_slice(&(!len).to_le_bytes());
        zlib.extend_from_slice(block);
    }
    zlib.extend_from_slice(&adler32(&raw).to_be_bytes());
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&(width as u32).to_be_bytes());
    ihdr.extend_from_slice(&(height as u32).to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]);
    let mut png = vec![0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n'];
    for (kind, body) in [(b"IHDR", &ihdr), (b"IDAT", &zlib), (b"IEND", &Vec::new())] {
        png.extend_from_slice(&(body.len() as u32).to_be_bytes());
        let start = png.len();
        png.extend_from_slice(kind);
        png.extend_from_slice(body);
        let crc = crc32(&png[start..]);
        png.extend_from_slice(&crc.to_be_bytes());
    }
    png
}

fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in data {
        a = (a + u32::from(byte)) % 65_521;
        b = (b + a) % 65_521;
    }
    (b << 16) | a
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

// ---------------------------------------------------------------------------------------

impl LifecycleGuest for BitVault {
    fn on_load(_settings: String) -> Result<(), String> {
        Ok(())
    }

    fn on_setting_change(_settings: String) -> Result<(), String> {
        Ok(())
    }

    fn on_close() {}

    fn handle_event(_event: Event) -> Result<(), String> {
        Ok(())
    }
}

export!(BitVault);
