//! CSV cells for spreadsheet exports (RFC 4180 quoting).
//!
//! A cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return
//! gets a leading `'`, so spreadsheet programs show it as text instead of
//! running it as a formula. A cell holding a comma, quote or line break is
//! quoted, with quotes doubled, so line breaks stay inside their cell.

/// Appends `value` as one cell to `line`, with a comma before it unless it
/// is the first cell.
pub(crate) fn push_cell(line: &mut String, value: &str, first: bool) {
    if !first {
        line.push(',');
    }
    let neutralised = value.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let needs_quotes = neutralised || value.contains([',', '"', '\n', '\r']);
    if needs_quotes {
        line.push('"');
    }
    if neutralised {
        line.push('\'');
    }
    for ch in value.chars() {
        if ch == '"' {
            line.push('"');
        }
        line.push(ch);
    }
    if needs_quotes {
        line.push('"');
    }
}

/// Appends one record of `cells` to `out`, ending with CRLF.
pub(crate) fn push_record<'a>(out: &mut String, cells: impl IntoIterator<Item = &'a str>) {
    for (index, cell) in cells.into_iter().enumerate() {
        push_cell(out, cell, index == 0);
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(cells: &[&str]) -> String {
        let mut out = String::new();
        push_record(&mut out, cells.iter().copied());
        out
    }

    #[test]
    fn formula_prefixes_get_a_quote() {
        for prefix in ["=", "+", "-", "@", "\t", "\r"] {
            let value = format!("{prefix}SUM(A1)");
            assert_eq!(
                record(&[&value]),
                format!("\"'{value}\"\r\n"),
                "prefix {prefix:?}"
            );
        }
    }

    #[test]
    fn plain_cells_stay_unquoted() {
        assert_eq!(record(&["a", "b c", "1"]), "a,b c,1\r\n");
    }

    #[test]
    fn quotes_and_line_breaks_stay_in_their_cell() {
        assert_eq!(
            record(&["say \"hi\"", "two\nlines", "x,y"]),
            "\"say \"\"hi\"\"\",\"two\nlines\",\"x,y\"\r\n"
        );
    }

    #[test]
    fn formula_after_text_is_left_alone() {
        assert_eq!(record(&["a=1"]), "a=1\r\n");
    }
}
