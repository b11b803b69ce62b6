//! What every XML report reader shares: reading an attribute.

use quick_xml::events::BytesStart;

/// The unescaped value of attribute `name` (by local name), if present and readable.
pub(super) fn attr(e: &BytesStart<'_>, name: &[u8]) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == name)
        .and_then(|a| a.unescape_value().ok().map(|v| v.into_owned()))
}
