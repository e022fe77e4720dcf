//! `pdk-bitvault`: BitVault's small kinds written with `plinth-pdk`, one component,
//! `export!(BitVault: event_handler, auth_provider, policy_hook, search_analyzer,
//! preview)`: the same behaviour as the `bitvault-kinds` reference, without mutants.

use plinth_pdk::prelude::*;

struct BitVault;

impl Plugin for BitVault {}

impl EventHandler for BitVault {
    fn handle(event: ObjectEvent) -> EventOutcome {
        let _ = kv::increment(&format!("events:{}", event.tenant), 1);
        if event.media_type == "application/x-msdownload" {
            EventOutcome::Reject("executables are not accepted".into())
        } else if event.size > 512 << 20 && event.action != ObjectAction::Deleted {
            EventOutcome::Retry(60_000)
        } else {
            EventOutcome::Ok
        }
    }
}

/// The issued tokens: (token, subject, tenant, role).
const TOKENS: &[(&str, &str, &str, &str)] = &[
    ("tok-alice-acme-7f3a9c", "alice", "acme", "admin"),
    ("tok-bob-globex-19b2e4", "bob", "globex", "reader"),
];

impl AuthProvider for BitVault {
    fn authenticate(token: &str) -> Result<Identity, AuthDenial> {
        TOKENS
            .iter()
            .find(|(issued, ..)| constant_time_eq(token.as_bytes(), issued.as_bytes()))
            .map(|(_, subject, tenant, role)| {
                Identity::new(*subject, *tenant).with_claim("role", *role)
            })
            .ok_or_else(|| AuthDenial::Denied("no such token".into()))
    }
}

impl PolicyHook for BitVault {
    fn decide(request: PolicyRequest) -> PolicyDecision {
        if request.path.split('/').any(|s| s == "..") {
            return PolicyDecision::Deny("paths may not climb out with `..`".into());
        }
        let size = request.attribute("size").and_then(|s| s.parse::<u64>().ok());
        match request.operation.as_str() {
            "delete" if request.subject.is_empty() => {
                PolicyDecision::Deny("anonymous clients may not delete".into())
            }
            "put" if size.is_some_and(|s| s > 5 << 30) => {
                PolicyDecision::Add(vec![("storage-class".into(), "cold".into())])
            }
            "put" => PolicyDecision::Add(vec![("quota-class".into(), "standard".into())]),
            _ => PolicyDecision::Allow,
        }
    }
}

impl SearchAnalyzer for BitVault {
    const ANALYZERS: &'static [&'static str] = &["standard"];

    fn analyze(_analyzer: &str, text: &str) -> Result<Vec<Token>, String> {
        Ok(words(text))
    }
}

impl Preview for BitVault {
    const MEDIA_TYPES: &'static [&'static str] =
        &["image/x-portable-graymap", "text/x-bitvault-note"];

    fn render(media_type: &str, data: &[u8]) -> Result<PreviewOutput, PreviewError> {
        if media_type == "text/x-bitvault-note" {
            return note(data);
        }
        let (width, height, pixels) = pgm(data).map_err(PreviewError::InvalidData)?;
        let data = png_gray(width, height, &pixels)
            .ok_or_else(|| PreviewError::Failed("the image has no pixels".into()))?;
        Ok(PreviewOutput::Png {
            data,
            width,
            height,
        })
    }
}

fn note(data: &[u8]) -> Result<PreviewOutput, PreviewError> {
    let text = std::str::from_utf8(data).map_err(|e| PreviewError::InvalidData(e.to_string()))?;
    let rest = text
        .strip_prefix("BVNOTE 1\n")
        .ok_or_else(|| PreviewError::InvalidData("no `BVNOTE 1` header".into()))?;
    let (head, body) = rest.split_once("\n\n").unwrap_or((rest, ""));
    let title = head
        .lines()
        .find_map(|l| l.strip_prefix("title: "))
        .unwrap_or("(untitled)");
    Ok(PreviewOutput::Text(format!(
        "{title}: {}",
        body.lines().next().unwrap_or("")
    )))
}

/// A PGM image in its text form (`P2`, no comments after the header), small enough to
/// preview as it is: at most 64x64.
fn pgm(data: &[u8]) -> Result<(u32, u32, Vec<u8>), String> {
    let text = std::str::from_utf8(data).map_err(|_| "not a text PGM".to_string())?;
    let mut fields = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .flat_map(str::split_whitespace);
    let mut next = || fields.next().ok_or_else(|| "the file is too short".to_string());
    if next()? != "P2" {
        return Err("not a P2 PGM".into());
    }
    let mut number = || -> Result<u32, String> {
        let field = next()?;
        field.parse().map_err(|_| format!("{field:?} is not a number"))
    };
    let (width, height, max) = (number()?, number()?, number()?);
    if width == 0 || height == 0 || width > 64 || height > 64 || max == 0 || max > 255 {
        return Err(format!("unsupported size {width}x{height}, max {max}"));
    }
    let mut pixels = Vec::with_capacity((width * height) as usize);
    for _ in 0..width * height {
        pixels.push((number()?.min(max) * 255 / max) as u8);
    }
    Ok((width, height, pixels))
}

plinth_pdk::export!(BitVault: event_handler, auth_provider, policy_hook, search_analyzer, preview);
