//! An attribute's value as HTML's tokenizer gives it. `lol_html` leaves
//! character references as written, and the URLs in real pages hold them
//! (`?a=1&amp;b=2`): [`attribute`] decodes them, or gives nothing where a
//! guess would be needed.
//!
//! Apart from the head scan (`head.rs`), which reads every attribute through
//! [`attribute`]: this is HTML's character reference state alone, knowing
//! nothing of what an element asks a browser to fetch.

use lol_html::send::Element;

/// An attribute's value with its character references decoded, as the HTML
/// tokenizer does (the tokenizer used here leaves them as written). `None`
/// when absent, or when it holds a reference that this short decoder does
/// not know: a guessed URL would be worse than none. It knows `&amp;`,
/// `&lt;`, `&gt;`, `&quot;`, `&apos;` and numeric references, which is what
/// URLs in real pages hold (`?a=1&amp;b=2`).
pub(super) fn attribute(el: &Element<'_, '_>, name: &str) -> Option<String> {
    let raw = el.get_attribute(name)?;
    if !raw.contains('&') {
        return Some(raw);
    }
    decode_references(&raw)
}

/// HTML's character reference state, for an attribute value.
pub(super) fn decode_references(raw: &str) -> Option<String> {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at + 1..];
        if let Some(numeric) = rest.strip_prefix('#') {
            let (digits, radix) = match numeric.strip_prefix(['x', 'X']) {
                Some(hex) => (hex, 16),
                None => (numeric, 10),
            };
            let len = digits
                .bytes()
                .take_while(|b| (*b as char).is_digit(radix))
                .count();
            if len == 0 {
                // `&#` without digits stays as it is.
                out.push('&');
                continue;
            }
            // Past the last code point, or a control or surrogate that HTML
            // maps to something else: not worth a table here.
            let value = u32::from_str_radix(&digits[..len.min(8)], radix).ok()?;
            let c = char::from_u32(value)
                .filter(|c| !matches!(c, '\0' | '\u{80}'..='\u{9f}') && len <= 8)?;
            out.push(c);
            rest = &digits[len..];
            rest = rest.strip_prefix(';').unwrap_or(rest);
            continue;
        }
        let len = rest.bytes().take_while(u8::is_ascii_alphanumeric).count();
        if len == 0 {
            out.push('&');
            continue;
        }
        let (name, after) = rest.split_at(len);
        let known = match name {
            "amp" | "AMP" => Some('&'),
            "lt" | "LT" => Some('<'),
            "gt" | "GT" => Some('>'),
            "quot" | "QUOT" => Some('"'),
            "apos" => Some('\''),
            _ => None,
        };
        if let Some(tail) = after.strip_prefix(';') {
            out.push(known?);
            rest = tail;
        } else if after.starts_with('=') || !LEGACY_REFERENCES.contains(&name) {
            // In an attribute, `&name=` and a name that no reference
            // without a semicolon spells stay as written (`?a=1&b=2`).
            out.push('&');
        } else if let Some(c) = known {
            // (`apos` is not among them: it needs its semicolon.)
            out.push(c);
            rest = after;
        } else {
            return None;
        }
    }
    out.push_str(rest);
    Some(out)
}

/// The named character references that HTML also decodes without their
/// semicolon (its named character references table).
const LEGACY_REFERENCES: [&str; 106] = [
    "AElig", "AMP", "Aacute", "Acirc", "Agrave", "Aring", "Atilde", "Auml", "COPY", "Ccedil",
    "ETH", "Eacute", "Ecirc", "Egrave", "Euml", "GT", "Iacute", "Icirc", "Igrave", "Iuml", "LT",
    "Ntilde", "Oacute", "Ocirc", "Ograve", "Oslash", "Otilde", "Ouml", "QUOT", "REG", "THORN",
    "Uacute", "Ucirc", "Ugrave", "Uuml", "Yacute", "aacute", "acirc", "acute", "aelig", "agrave",
    "amp", "aring", "atilde", "auml", "brvbar", "ccedil", "cedil", "cent", "copy", "curren", "deg",
    "divide", "eacute", "ecirc", "egrave", "eth", "euml", "frac12", "frac14", "frac34", "gt",
    "iacute", "icirc", "iexcl", "igrave", "iquest", "iuml", "laquo", "lt", "macr", "micro",
    "middot", "nbsp", "not", "ntilde", "oacute", "ocirc", "ograve", "ordf", "ordm", "oslash",
    "otilde", "ouml", "para", "plusmn", "pound", "quot", "raquo", "reg", "sect", "shy", "sup1",
    "sup2", "sup3", "szlig", "thorn", "times", "uacute", "ucirc", "ugrave", "uml", "uuml",
    "yacute", "yen", "yuml",
];
