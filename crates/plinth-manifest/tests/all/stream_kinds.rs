//! The metadata of the streaming kinds (docs/design/0046): content transforms with the
//! media types they take and the one they produce, and one storage provider.
#![allow(clippy::unwrap_used)] // Tests may unwrap: a panic is a failed test.

use crate::common::{assert_invalid, parse_ok, with};
use plinth_manifest::Kind;

const KINDS: &str = r#"
[[provides.content-transform]]
name = "thumbnail"
description = "A 256-pixel PNG of an image"
media_types = ["image/png", "Image/JPEG"]
output_media_type = "image/png"

[[provides.content-transform]]
name = "ocr"
media_types = ["application/pdf"]

[[provides.storage-provider]]
name = "files"
"#;

#[test]
fn streaming_kinds_parse_with_their_metadata() {
    let m = parse_ok(&with(KINDS)).manifest;
    assert_eq!(
        m.provides.kinds(),
        [Kind::ContentTransform, Kind::StorageProvider]
    );
    let thumbnail = &m.provides.content_transform[0];
    assert_eq!(thumbnail.media_types, ["image/png", "image/jpeg"]);
    assert_eq!(thumbnail.output_media_type.as_deref(), Some("image/png"));
    assert!(thumbnail.accepts("IMAGE/JPEG; q=0.9"));
    assert_eq!(m.provides.content_transform[1].output_media_type, None);
    assert_eq!(
        m.provides
            .transform_for("application/PDF")
            .map(|t| t.name.as_str()),
        Some("ocr")
    );
    assert!(m.provides.transform_for("text/plain").is_none());
    assert_eq!(m.provides.storage_provider[0].name, "files");
    assert_eq!(
        Kind::ContentTransform.versioned_interface().as_deref(),
        Some("plinth:content-transform/content-transform@0.1.0")
    );
}

#[test]
fn bad_streaming_declarations_name_their_key() {
    assert_invalid(
        &with("[[provides.content-transform]]\nname = \"t\"\n"),
        "provides.content-transform[0]",
        "declares no `media_types`",
    );
    assert_invalid(
        &with(
            "[[provides.content-transform]]\nname = \"t\"\nmedia_types = [\"text/plain\"]\noutput_media_type = \"png\"\n",
        ),
        "provides.content-transform[0].output_media_type",
        "is not a media type",
    );
    assert_invalid(
        &with(
            "[[provides.storage-provider]]\nname = \"a\"\n\n[[provides.storage-provider]]\nname = \"b\"\n",
        ),
        "provides.storage-provider",
        "provides one storage provider",
    );
}
