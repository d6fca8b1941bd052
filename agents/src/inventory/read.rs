//! Reads the rows of a CSV or XLSX file as text cells with spreadsheet row numbers.
//!
//! Cells are taken as text and never evaluated: a cell such as `=HYPERLINK(...)` stays that
//! text. XLSX formula cells give the value the workbook saved for them.

use std::borrow::Cow;
use std::io::Cursor;

use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};

use super::InventoryError;

/// The header and data rows of one sheet.
#[derive(Debug)]
pub(crate) struct Sheet {
    /// Row number of the header.
    pub(crate) header_row: u32,
    /// Header cells as written.
    pub(crate) header: Vec<String>,
    /// Data rows that have at least one non-empty cell.
    pub(crate) rows: Vec<RawRow>,
}

/// One data row.
#[derive(Debug)]
pub(crate) struct RawRow {
    /// Row number as a spreadsheet shows it.
    pub(crate) number: u32,
    /// Cell texts in file order.
    pub(crate) cells: Vec<String>,
    /// 0-based positions of cells that hold a spreadsheet error such as `#N/A`, with it.
    pub(crate) cell_errors: Vec<(usize, String)>,
}

impl RawRow {
    fn is_blank(&self) -> bool {
        self.cell_errors.is_empty() && self.cells.iter().all(|cell| cell.trim().is_empty())
    }
}

/// Reads a CSV file, returning `None` when it has no non-empty row.
pub(crate) fn csv(bytes: &[u8]) -> Result<Option<Sheet>, InventoryError> {
    let text = decode(bytes)?;
    let delimiter = sniff_delimiter(&text);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(text.as_bytes());

    // The row number is one more than the line breaks before the record, less those inside
    // quoted cells: a spreadsheet shows a cell with line breaks in one row. Old Mac files
    // end lines with a lone carriage return.
    let line_break = if text.contains('\n') { b'\n' } else { b'\r' };
    let mut counted_to = 0;
    let mut breaks_before = 0u64;
    let mut breaks_inside_cells = 0u64;
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|error| InventoryError::Csv {
            message: error.to_string(),
        })?;
        // The reader reports where it started looking for the record, before the blank lines
        // it skips, so the start moves past them.
        let looked_from = record
            .position()
            .map_or(0, |position| position.byte() as usize)
            .min(text.len());
        let start = looked_from
            + text.as_bytes()[looked_from..]
                .iter()
                .take_while(|byte| matches!(byte, b'\r' | b'\n'))
                .count();
        breaks_before += count_byte(&text.as_bytes()[counted_to..start], line_break);
        counted_to = start;
        let line = breaks_before - breaks_inside_cells.min(breaks_before) + 1;
        let number = u32::try_from(line).unwrap_or(u32::MAX);
        let cells: Vec<String> = record.iter().map(str::to_owned).collect();
        breaks_inside_cells += cells
            .iter()
            .map(|cell| count_byte(cell.as_bytes(), line_break))
            .sum::<u64>();
        rows.push(RawRow {
            number,
            cells,
            cell_errors: Vec::new(),
        });
    }
    Ok(into_sheet(rows))
}

fn count_byte(bytes: &[u8], wanted: u8) -> u64 {
    bytes.iter().filter(|byte| **byte == wanted).count() as u64
}

/// Reads the sheet named `Inventory` (in any case) of an XLSX workbook, or else its first
/// sheet. Returns `None` when that sheet has no non-empty row.
pub(crate) fn xlsx(bytes: &[u8]) -> Result<Option<Sheet>, InventoryError> {
    // NOTE: the size limit applies to the compressed workbook. A sheet that expands to far
    // more is still read whole before the row limit is checked.
    let mut workbook: Xlsx<_> =
        open_workbook_from_rs(Cursor::new(bytes)).map_err(|error| InventoryError::Workbook {
            message: format!("{error}; save the file as an Excel workbook (.xlsx)"),
        })?;
    let names = workbook.sheet_names();
    let chosen = names
        .iter()
        .find(|name| name.trim().eq_ignore_ascii_case("inventory"))
        .or_else(|| names.first())
        .cloned();
    let Some(name) = chosen else {
        return Err(InventoryError::Workbook {
            message: "the workbook has no sheet: add a sheet with the template columns".to_owned(),
        });
    };
    let range = workbook
        .worksheet_range(&name)
        .map_err(|error| InventoryError::Workbook {
            message: format!("cannot read sheet \"{name}\": {error}"),
        })?;
    let Some((first_row, _)) = range.start() else {
        return Ok(None);
    };
    let rows = range
        .rows()
        .enumerate()
        .map(|(index, cells)| xlsx_row(first_row, index, cells))
        .collect();
    Ok(into_sheet(rows))
}

fn xlsx_row(first_row: u32, index: usize, cells: &[Data]) -> RawRow {
    let offset = u32::try_from(index).unwrap_or(u32::MAX);
    let mut row = RawRow {
        number: first_row.saturating_add(offset).saturating_add(1),
        cells: Vec::with_capacity(cells.len()),
        cell_errors: Vec::new(),
    };
    for (position, cell) in cells.iter().enumerate() {
        if let Data::Error(error) = cell {
            row.cell_errors.push((position, error.to_string()));
            row.cells.push(String::new());
        } else {
            row.cells.push(cell.to_string());
        }
    }
    row
}

/// Takes the first non-blank row as the header and drops blank rows.
fn into_sheet(rows: Vec<RawRow>) -> Option<Sheet> {
    let mut rows = rows.into_iter().filter(|row| !row.is_blank());
    let header = rows.next()?;
    Some(Sheet {
        header_row: header.number,
        header: header.cells,
        rows: rows.collect(),
    })
}

/// Decodes UTF-8 with or without a byte order mark, and UTF-16 with one.
fn decode(bytes: &[u8]) -> Result<Cow<'_, str>, InventoryError> {
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return utf8(rest);
    }
    if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
        return utf16(rest, u16::from_le_bytes).map(Cow::Owned);
    }
    if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        return utf16(rest, u16::from_be_bytes).map(Cow::Owned);
    }
    utf8(bytes)
}

fn utf8(bytes: &[u8]) -> Result<Cow<'_, str>, InventoryError> {
    std::str::from_utf8(bytes)
        .map(Cow::Borrowed)
        .map_err(|error| {
            let valid = &bytes[..error.valid_up_to()];
            let line = valid.iter().filter(|byte| **byte == b'\n').count() + 1;
            InventoryError::Encoding {
                message: format!("invalid byte on line {line}"),
            }
        })
}

fn utf16(bytes: &[u8], unit: fn([u8; 2]) -> u16) -> Result<String, InventoryError> {
    let invalid = || InventoryError::Encoding {
        message: "invalid UTF-16 after the byte order mark".to_owned(),
    };
    if !bytes.len().is_multiple_of(2) {
        return Err(invalid());
    }
    let units: Vec<u16> = bytes
        .chunks_exact(2)
        .map(|pair| unit([pair[0], pair[1]]))
        .collect();
    String::from_utf16(&units).map_err(|_| invalid())
}

/// Picks `,`, `;` or tab, whichever occurs most often outside quotes in the first non-empty
/// line. Spreadsheets in locales with a decimal comma save CSV with `;`.
fn sniff_delimiter(text: &str) -> u8 {
    let first_line = text
        .lines()
        .find(|line| !line.trim().is_empty())
        .unwrap_or("");
    let mut counts = [(b',', 0usize), (b';', 0), (b'\t', 0)];
    let mut quoted = false;
    for byte in first_line.bytes() {
        if byte == b'"' {
            quoted = !quoted;
        }
        if let Some(count) = counts.iter_mut().find(|(delimiter, _)| *delimiter == byte)
            && !quoted
        {
            count.1 += 1;
        }
    }
    // `max_by_key` returns the last maximum, so the comma goes last to win ties.
    counts.rotate_left(1);
    counts
        .iter()
        .max_by_key(|(_, count)| *count)
        .map_or(b',', |(delimiter, _)| *delimiter)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numbers(sheet: &Sheet) -> Vec<u32> {
        sheet.rows.iter().map(|row| row.number).collect()
    }

    #[test]
    fn csv_rows_are_numbered_as_a_spreadsheet_shows_them() {
        let text = "vendor,product\r\n\r\nAcme,\"two\r\nlines\"\r\n,\r\nBeta,Gamma\r\n";
        let sheet = csv(text.as_bytes()).expect("valid").expect("not empty");
        assert_eq!(sheet.header_row, 1);
        assert_eq!(numbers(&sheet), vec![3, 5]);
        assert_eq!(sheet.rows[0].cells, vec!["Acme", "two\r\nlines"]);
    }

    #[test]
    fn csv_header_may_follow_blank_lines() {
        let sheet = csv(b"\n\nvendor,product\nAcme,Valu\n")
            .expect("valid")
            .expect("not empty");
        assert_eq!(sheet.header_row, 3);
        assert_eq!(numbers(&sheet), vec![4]);
    }

    #[test]
    fn semicolon_and_tab_delimiters_are_detected() {
        assert_eq!(sniff_delimiter("vendor;product;\"a,b\"\n"), b';');
        assert_eq!(sniff_delimiter("vendor\tproduct\n"), b'\t');
        assert_eq!(sniff_delimiter("vendor\n"), b',');
        assert_eq!(sniff_delimiter("vendor,product;x\n"), b',');
    }

    #[test]
    fn utf16_with_byte_order_mark_is_decoded() {
        let mut bytes = vec![0xFF, 0xFE];
        for unit in "vendor,product\n".encode_utf16() {
            bytes.extend_from_slice(&unit.to_le_bytes());
        }
        let sheet = csv(&bytes).expect("valid").expect("not empty");
        assert_eq!(sheet.header, vec!["vendor", "product"]);
    }

    #[test]
    fn invalid_utf8_names_the_line() {
        let error = csv(b"vendor,product\nAcme,Caf\xE9\n").expect_err("latin-1 byte");
        assert_eq!(
            error,
            InventoryError::Encoding {
                message: "invalid byte on line 2".to_owned()
            }
        );
    }

    #[test]
    fn whitespace_only_file_has_no_sheet() {
        assert!(csv(b"\r\n , \r\n").expect("valid").is_none());
    }
}
