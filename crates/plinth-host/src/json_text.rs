//! JSON text read into and written from the typed path's values (docs/design/0077).
//!
//! The typed path of a dynamic call ([`crate::json_plan`]) carries `list<u8>`, `string`,
//! `u32` and `bool` values. For a call made with JSON text, [`Scanner`] reads the argument
//! array straight into them and the writers below write the result straight to text.
//! The scanner takes only the plainest JSON for each value and gives up (`None`) on
//! anything else: the caller then parses the text into [`serde_json::Value`]s, whose
//! path decides, in its own words, whether the text is acceptable. So what the scanner
//! accepts must be exactly what that path accepts, with the same value; what it refuses
//! costs only the slower path.

/// A cursor over JSON text.
pub(crate) struct Scanner<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Scanner<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        Self { text, at: 0 }
    }

    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.at).copied()
    }

    fn skip_space(&mut self) {
        while self.peek().is_some_and(is_space) {
            self.at += 1;
        }
    }

    /// The byte `b`, after any white space.
    pub(crate) fn eat(&mut self, b: u8) -> Option<()> {
        self.skip_space();
        (self.peek() == Some(b)).then(|| self.at += 1)
    }

    /// The end of the text, after any white space.
    pub(crate) fn end(&mut self) -> Option<()> {
        self.skip_space();
        (self.at == self.text.len()).then_some(())
    }

    /// A non-negative integer written without sign, fraction or exponent, at most `max`.
    pub(crate) fn uint(&mut self, max: u64) -> Option<u64> {
        self.skip_space();
        let bytes = self.text.as_bytes();
        let start = self.at;
        let mut n: u64 = 0;
        while let Some(digit) = bytes.get(self.at).filter(|b| b.is_ascii_digit()) {
            n = n * 10 + u64::from(digit - b'0');
            if n > max {
                return None;
            }
            self.at += 1;
        }
        let digits = self.at - start;
        if digits == 0 || (digits > 1 && bytes[start] == b'0') {
            return None;
        }
        if matches!(self.peek(), Some(b'.' | b'e' | b'E')) {
            return None;
        }
        Some(n)
    }

    /// `true` or `false`.
    pub(crate) fn bool(&mut self) -> Option<bool> {
        self.skip_space();
        let rest = &self.text[self.at..];
        let (value, len) = if rest.starts_with("true") {
            (true, 4)
        } else if rest.starts_with("false") {
            (false, 5)
        } else {
            return None;
        };
        self.at += len;
        Some(value)
    }

    /// A string's value.
    pub(crate) fn string(&mut self) -> Option<String> {
        self.eat(b'"')?;
        let bytes = self.text.as_bytes();
        let start = self.at;
        let mut escaped = false;
        loop {
            match *bytes.get(self.at)? {
                b'"' => break,
                b'\\' => {
                    escaped = true;
                    self.at += 2;
                }
                0x00..=0x1f => return None,
                _ => self.at += 1,
            }
        }
        // Both ends are ASCII quotes, so both are character boundaries.
        let raw = self.text.get(start..self.at)?;
        self.at += 1;
        if escaped {
            serde_json::from_str(self.text.get(start - 1..self.at)?).ok()
        } else {
            Some(raw.to_owned())
        }
    }

    /// Bytes: a string (its UTF-8) or an array of integers 0..=255.
    pub(crate) fn bytes(&mut self) -> Option<Vec<u8>> {
        self.skip_space();
        if self.peek() == Some(b'"') {
            return self.string().map(String::into_bytes);
        }
        self.eat(b'[')?;
        if self.eat(b']').is_some() {
            return Some(Vec::new());
        }
        // One pass: the array's elements are the hot loop of a `list<u8>` call.
        let text = self.text.as_bytes();
        let mut rest = text.get(self.at..)?;
        // At least two bytes of text per element: one allocation for most arrays.
        let mut bytes = Vec::with_capacity(rest.len() / 2 + 1);
        loop {
            while let [b, tail @ ..] = rest
                && is_space(*b)
            {
                rest = tail;
            }
            // One to three digits, no leading zero, at most 255, and then no more
            // digits, no fraction and no exponent.
            let (n, tail): (u32, &[u8]) = match rest {
                [d @ b'1'..=b'9', e @ b'0'..=b'9', f @ b'0'..=b'9', tail @ ..] => (
                    u32::from(d - b'0') * 100 + u32::from(e - b'0') * 10 + u32::from(f - b'0'),
                    tail,
                ),
                [d @ b'1'..=b'9', e @ b'0'..=b'9', tail @ ..] => {
                    (u32::from(d - b'0') * 10 + u32::from(e - b'0'), tail)
                }
                [d @ b'0'..=b'9', tail @ ..] => (u32::from(d - b'0'), tail),
                _ => return None,
            };
            if n > 255 || matches!(tail.first(), Some(b'0'..=b'9' | b'.' | b'e' | b'E')) {
                return None;
            }
            bytes.push(n as u8);
            rest = tail;
            while let [b, tail @ ..] = rest
                && is_space(*b)
            {
                rest = tail;
            }
            match rest {
                [b',', tail @ ..] => rest = tail,
                [b']', tail @ ..] => {
                    self.at = text.len() - tail.len();
                    return Some(bytes);
                }
                _ => return None,
            }
        }
    }
}

/// JSON's white space: space, tab, line feed, carriage return.
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

/// The decimal digits of every byte value: `[length, digits…]`.
const DIGITS: [[u8; 4]; 256] = {
    let mut table = [[0u8; 4]; 256];
    let mut i = 0;
    while i < 256 {
        let n = i as u8;
        table[i] = if n >= 100 {
            [3, b'0' + n / 100, b'0' + n / 10 % 10, b'0' + n % 10]
        } else if n >= 10 {
            [2, b'0' + n / 10, b'0' + n % 10, 0]
        } else {
            [1, b'0' + n, 0, 0]
        };
        i += 1;
    }
    table
};

/// `bytes` as a JSON array of numbers.
pub(crate) fn write_bytes(bytes: &[u8], out: &mut Vec<u8>) {
    // At most three digits and a comma per byte, and the brackets; written in place,
    // then cut to the length written.
    let start = out.len();
    out.resize(start + bytes.len() * 4 + 2, 0);
    let buf = &mut out[start..];
    buf[0] = b'[';
    let mut at = 1;
    for (i, &b) in bytes.iter().enumerate() {
        if i > 0 {
            buf[at] = b',';
            at += 1;
        }
        let [len, digits @ ..] = DIGITS[usize::from(b)];
        buf[at..at + 3].copy_from_slice(&digits);
        at += usize::from(len);
    }
    buf[at] = b']';
    out.truncate(start + at + 1);
}

/// `s` as a JSON string.
pub(crate) fn write_string(s: &str, out: &mut Vec<u8>) {
    // Writing to a `Vec` cannot fail, and a `&str` always serializes.
    let _ = serde_json::to_writer(out, s);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    /// What the `Value` path makes of `text` as bytes (`Vec<u8>`'s `from_json`).
    fn bytes_by_value(text: &str) -> Option<Vec<u8>> {
        match serde_json::from_str::<Value>(text).ok()? {
            Value::String(s) => Some(s.into_bytes()),
            Value::Array(items) => items
                .iter()
                .map(|item| item.as_u64().and_then(|n| u8::try_from(n).ok()))
                .collect(),
            _ => None,
        }
    }

    #[test]
    fn what_the_scanner_takes_the_value_path_takes_the_same() {
        let cases = [
            "[]",
            "[0]",
            "[ 1 , 2,255 ]",
            "[256]",
            "[-1]",
            "[1.0]",
            "[1e2]",
            "[01]",
            "[1,]",
            "[,1]",
            "[1 2]",
            "[\u{c}1]",
            "[ ]",
            "\"hi\"",
            "\"a\\\"b\\u00e9\\n\"",
            "\"é ✓\"",
            "\"tab\there\"",
            "\"open",
            "[true]",
            "null",
        ];
        for text in cases {
            let mut scanner = Scanner::new(text);
            let scanned = scanner.bytes().filter(|_| scanner.end().is_some());
            if let Some(bytes) = &scanned {
                assert_eq!(Some(bytes), bytes_by_value(text).as_ref(), "{text}");
            }
        }
        // The plain forms are taken by the scanner itself, not left to the slow path.
        for text in [
            "[]",
            "[ 1 , 2,255 ]",
            "\"hi\"",
            "\"a\\\"b\\u00e9\\n\"",
            "\"é ✓\"",
        ] {
            let mut scanner = Scanner::new(text);
            assert!(
                scanner.bytes().is_some() && scanner.end().is_some(),
                "{text}"
            );
        }
    }

    #[test]
    fn numbers_and_booleans_are_read_only_in_their_plain_form() {
        let uint = |text: &str| {
            let mut scanner = Scanner::new(text);
            scanner
                .uint(u64::from(u32::MAX))
                .filter(|_| scanner.end().is_some())
        };
        assert_eq!(uint(" 42 "), Some(42));
        assert_eq!(uint("0"), Some(0));
        assert_eq!(uint("4294967295"), Some(u64::from(u32::MAX)));
        for refused in ["4294967296", "-1", "1.5", "1e3", "007", "", "x"] {
            assert_eq!(uint(refused), None, "{refused}");
        }
        assert_eq!(Scanner::new(" true").bool(), Some(true));
        assert_eq!(Scanner::new("false").bool(), Some(false));
        assert_eq!(Scanner::new("nul").bool(), None);
    }

    #[test]
    fn written_text_is_what_serde_json_writes() {
        let all: Vec<u8> = (0..=255).collect();
        let mut out = Vec::new();
        write_bytes(&all, &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            serde_json::to_string(&all).unwrap()
        );
        let mut out = Vec::new();
        write_bytes(&[], &mut out);
        assert_eq!(out, b"[]");
        let text = "quote \" backslash \\ newline \n bell \u{7} é";
        let mut out = Vec::new();
        write_string(text, &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            serde_json::to_string(text).unwrap()
        );
    }
}
