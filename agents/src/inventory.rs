//! The inventory import: a CSV or XLSX list of bought AI tools, one tool per row.
//!
//! A surveying firm rarely builds its AI. It buys valuation models, GIS tools, report-drafting
//! assistants and chatbots, and no code scan or cloud crawl sees them. The inventory file
//! lists them with the columns of `docs/connectors/inventory-template.csv`. [`parse_inventory`]
//! reads the file and checks every row: bad rows are reported with their row number, column
//! and reason, and good rows are kept. [`InventorySource`] turns each good row into an
//! [`InventoryEntry`](proto::FindingKind::InventoryEntry) finding and a
//! [`Declaration`](proto::FindingKind::Declaration) finding, both under the project root
//! `<vendor>/<product>`, so each tool becomes one AI system.

mod columns;
mod findings;
mod read;
mod row;
mod source;
mod vocabulary;

use std::fmt;
use std::path::Path;

pub use source::{InventoryFactory, InventorySource};
pub use vocabulary::{DataCategory, UseCategory};

/// Largest inventory file that is read, in bytes (16 MiB).
pub const MAX_INVENTORY_BYTES: usize = 16 * 1024 * 1024;

/// Largest number of data rows read from one inventory file.
pub const MAX_INVENTORY_ROWS: usize = 50_000;

/// File format of an inventory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InventoryFormat {
    /// Comma-, semicolon- or tab-separated text in UTF-8 or UTF-16 with a byte order mark.
    Csv,
    /// An Excel workbook (`.xlsx` or `.xlsm`).
    Xlsx,
}

impl InventoryFormat {
    /// Returns the format that a file's extension names, if any.
    pub fn from_path(path: &Path) -> Option<InventoryFormat> {
        let extension = path.extension()?.to_str()?.to_ascii_lowercase();
        match extension.as_str() {
            "csv" | "tsv" | "txt" => Some(InventoryFormat::Csv),
            "xlsx" | "xlsm" => Some(InventoryFormat::Xlsx),
            _ => None,
        }
    }

    /// Parses the `format` setting of an inventory connector: `csv` or `xlsx`.
    pub fn from_name(name: &str) -> Option<InventoryFormat> {
        match name.trim().to_ascii_lowercase().as_str() {
            "csv" => Some(InventoryFormat::Csv),
            "xlsx" => Some(InventoryFormat::Xlsx),
            _ => None,
        }
    }
}

/// One good row of an inventory: a bought AI tool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InventoryEntry {
    /// Row number as a spreadsheet shows it (the header is row 1 in a file that starts with it).
    pub row: u32,
    /// Vendor name as written, with runs of white space collapsed to one space.
    pub vendor: String,
    /// Product name as written, with runs of white space collapsed to one space.
    pub product: String,
    /// What the firm uses the tool for, in its own words.
    pub purpose: String,
    /// Kind of use, from a closed list.
    pub use_category: UseCategory,
    /// Kinds of data the tool receives; empty when the cell is empty (unknown).
    pub data_categories: Vec<DataCategory>,
    /// Whether a person reviews each output before it is used.
    pub human_review: bool,
    /// Whether clients or the public use the tool or see its output directly.
    pub client_facing: bool,
    /// Person or team accountable for the tool, when given.
    pub owner: Option<String>,
}

impl InventoryEntry {
    /// Returns the tool's identity: vendor and product in lower case with white space
    /// collapsed, `%` and `/` percent-encoded, joined by `/`. Two rows with the same key
    /// describe the same tool.
    pub fn key(&self) -> String {
        let part = |name: &str| normalise(name).replace('%', "%25").replace('/', "%2f");
        format!("{}/{}", part(&self.vendor), part(&self.product))
    }

    /// Returns the display name, `"<vendor> <product>"`.
    pub fn name(&self) -> String {
        format!("{} {}", self.vendor, self.product)
    }
}

/// A row that was not imported, with the cell at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// Row number as a spreadsheet shows it.
    pub row: u32,
    /// Template name of the column at fault, such as `human review`.
    pub column: String,
    /// What is wrong with the cell and how to fix it.
    pub reason: String,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "row {}, column \"{}\": {}",
            self.row, self.column, self.reason
        )
    }
}

/// The result of reading an inventory file whose header row is valid.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedInventory {
    /// Good rows, in file order.
    pub entries: Vec<InventoryEntry>,
    /// Problems with single rows, in file order; those rows are not in `entries`.
    pub row_errors: Vec<RowError>,
    /// Header cells that are not template columns; their values are ignored.
    pub unknown_columns: Vec<String>,
}

/// Error that stops the import of a whole file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InventoryError {
    /// The file holds no header row.
    #[error(
        "the inventory file is empty: start it with the header row `{}`",
        columns::TEMPLATE_HEADER
    )]
    Empty,
    /// The header row lacks required columns.
    #[error(
        "the header row (row {header_row}) has no column {}: add it, the template header is `{}`",
        quoted_list(.columns),
        columns::TEMPLATE_HEADER
    )]
    MissingColumns {
        /// Row number of the header.
        header_row: u32,
        /// Template names of the missing columns.
        columns: Vec<String>,
    },
    /// Two header cells name the same column.
    #[error(
        "the header row (row {header_row}) names column \"{column}\" twice, in cells {first} and {second}: keep one"
    )]
    DuplicateColumn {
        /// Row number of the header.
        header_row: u32,
        /// Template name of the column.
        column: String,
        /// 1-based position of the first cell.
        first: usize,
        /// 1-based position of the second cell.
        second: usize,
    },
    /// The file is larger than [`MAX_INVENTORY_BYTES`] or has more than
    /// [`MAX_INVENTORY_ROWS`] rows.
    #[error("the inventory file is too large ({what}): split it into files of at most {limit}")]
    TooLarge {
        /// Size or row count found.
        what: String,
        /// Limit that was exceeded.
        limit: String,
    },
    /// A CSV file is not UTF-8 or UTF-16 text.
    #[error(
        "the inventory file is not UTF-8 text ({message}): save it as \"CSV UTF-8\" and import it again"
    )]
    Encoding {
        /// Where the first invalid byte is.
        message: String,
    },
    /// A CSV file cannot be split into rows.
    #[error("cannot read the inventory as CSV: {message}")]
    Csv {
        /// Parser message.
        message: String,
    },
    /// An XLSX file cannot be opened or has no sheet.
    #[error("cannot read the inventory as an XLSX workbook: {message}")]
    Workbook {
        /// Reader message and fix.
        message: String,
    },
}

fn quoted_list(columns: &[String]) -> String {
    let quoted: Vec<String> = columns
        .iter()
        .map(|column| format!("\"{column}\""))
        .collect();
    quoted.join(", ")
}

/// Parses an inventory file and checks every row.
///
/// The first non-empty row is the header. Header cells are matched to the template columns
/// ignoring case, surrounding white space, and the difference between `_` and a space. Rows
/// whose cells are all empty are skipped. A second row for a vendor and product that an
/// earlier row already lists is reported as a row error and not imported.
///
/// # Errors
///
/// Returns an [`InventoryError`] when the whole file cannot be used: it is empty, too large,
/// not text, not a workbook, or its header lacks a required column or repeats one.
pub fn parse_inventory(
    bytes: &[u8],
    format: InventoryFormat,
) -> Result<ParsedInventory, InventoryError> {
    if bytes.len() > MAX_INVENTORY_BYTES {
        return Err(InventoryError::TooLarge {
            what: format!("{} bytes", bytes.len()),
            limit: format!("{MAX_INVENTORY_BYTES} bytes"),
        });
    }
    let sheet = match format {
        InventoryFormat::Csv => read::csv(bytes)?,
        InventoryFormat::Xlsx => read::xlsx(bytes)?,
    };
    let Some(sheet) = sheet else {
        return Err(InventoryError::Empty);
    };
    if sheet.rows.len() > MAX_INVENTORY_ROWS {
        return Err(InventoryError::TooLarge {
            what: format!("{} rows", sheet.rows.len()),
            limit: format!("{MAX_INVENTORY_ROWS} rows"),
        });
    }
    let layout = columns::Layout::from_header(sheet.header_row, &sheet.header)?;
    Ok(row::check_rows(&layout, &sheet.rows))
}

/// Lower-cases a name and collapses its white space, for matching.
fn normalise(text: &str) -> String {
    collapse_whitespace(text).to_lowercase()
}

/// Trims a cell and replaces each run of white space inside it by one space.
fn collapse_whitespace(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
