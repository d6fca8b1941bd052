//! Checks the cells of each data row and builds the good rows into entries.

use std::collections::HashMap;

use super::columns::{Column, Layout};
use super::read::RawRow;
use super::vocabulary::{DataCategory, UseCategory, listing, parse_yes_no};
use super::{InventoryEntry, ParsedInventory, RowError, collapse_whitespace};

/// Longest vendor, product or owner name accepted, in characters.
const MAX_NAME_CHARS: usize = 200;

/// Longest purpose accepted, in characters.
const MAX_PURPOSE_CHARS: usize = 2_000;

/// Checks every row; the first row of each vendor and product is kept, later ones are errors.
pub(crate) fn check_rows(layout: &Layout, rows: &[RawRow]) -> ParsedInventory {
    let mut parsed = ParsedInventory {
        unknown_columns: layout.unknown.clone(),
        ..ParsedInventory::default()
    };
    let mut first_rows: HashMap<String, u32> = HashMap::new();
    for raw in rows {
        let entry = match check_row(layout, raw) {
            Ok(entry) => entry,
            Err(errors) => {
                parsed.row_errors.extend(errors);
                continue;
            }
        };
        if let Some(first) = first_rows.get(&entry.key()) {
            parsed.row_errors.push(RowError {
                row: entry.row,
                column: Column::Product.name().to_owned(),
                reason: format!(
                    "\"{}\" by \"{}\" is already listed in row {first}: merge the two rows into one",
                    entry.product, entry.vendor
                ),
            });
            continue;
        }
        first_rows.insert(entry.key(), entry.row);
        parsed.entries.push(entry);
    }
    parsed
}

/// Checks one row, returning every problem it has rather than only the first.
fn check_row(layout: &Layout, raw: &RawRow) -> Result<InventoryEntry, Vec<RowError>> {
    let mut cells = Cells {
        layout,
        raw,
        errors: Vec::new(),
    };
    let vendor = cells.name(Column::Vendor);
    let product = cells.name(Column::Product);
    let purpose = cells.purpose();
    let use_category = cells.use_category();
    let data_categories = cells.data_categories();
    let human_review = cells.yes_no(Column::HumanReview);
    let client_facing = cells.yes_no(Column::ClientFacing);
    let owner = cells.owner();
    if !cells.errors.is_empty() {
        return Err(cells.errors);
    }
    let (Some(use_category), Some(human_review), Some(client_facing)) =
        (use_category, human_review, client_facing)
    else {
        unreachable!("a missing value always comes with a row error");
    };
    Ok(InventoryEntry {
        row: raw.number,
        vendor,
        product,
        purpose,
        use_category,
        data_categories,
        human_review,
        client_facing,
        owner,
    })
}

/// The cells of one row, with the errors found so far.
struct Cells<'a> {
    layout: &'a Layout,
    raw: &'a RawRow,
    errors: Vec<RowError>,
}

impl Cells<'_> {
    /// Returns a cell's trimmed text; a spreadsheet error in it is reported and read as empty.
    fn text(&mut self, column: Column) -> String {
        let Some(position) = self.layout.position(column) else {
            return String::new();
        };
        let spreadsheet_error = self.raw.cell_errors.iter().find(|(at, _)| *at == position);
        if let Some((_, error)) = spreadsheet_error {
            let reason = format!(
                "the cell holds the spreadsheet error {error}: fix the formula or type the value"
            );
            self.error(column, reason);
            return String::new();
        }
        self.raw
            .cells
            .get(position)
            .map(|cell| cell.trim().to_owned())
            .unwrap_or_default()
    }

    fn error(&mut self, column: Column, reason: String) {
        self.errors.push(RowError {
            row: self.raw.number,
            column: column.name().to_owned(),
            reason,
        });
    }

    fn name(&mut self, column: Column) -> String {
        let text = collapse_whitespace(&self.text(column));
        if text.is_empty() && !self.has_error(column) {
            self.error(
                column,
                format!("is empty: write the {} name", column.name()),
            );
        }
        self.check_length(column, &text, MAX_NAME_CHARS);
        text
    }

    fn purpose(&mut self) -> String {
        let text = self.text(Column::Purpose);
        if text.is_empty() && !self.has_error(Column::Purpose) {
            let reason = "is empty: say in a few words what the tool is used for".to_owned();
            self.error(Column::Purpose, reason);
        }
        self.check_length(Column::Purpose, &text, MAX_PURPOSE_CHARS);
        text
    }

    fn use_category(&mut self) -> Option<UseCategory> {
        let text = self.text(Column::UseCategory);
        if let Some(category) = UseCategory::parse(&text) {
            return Some(category);
        }
        if !self.has_error(Column::UseCategory) {
            let allowed = listing(&UseCategory::ALL);
            let reason = if text.is_empty() {
                format!("is empty: write one of {allowed}")
            } else {
                format!("\"{text}\" is not a use category: write one of {allowed}")
            };
            self.error(Column::UseCategory, reason);
        }
        None
    }

    fn data_categories(&mut self) -> Vec<DataCategory> {
        let text = self.text(Column::DataCategories);
        let mut categories = Vec::new();
        let items = text
            .split([',', ';', '|', '\n'])
            .map(str::trim)
            .filter(|item| !item.is_empty());
        for item in items {
            let Some(category) = DataCategory::parse(item) else {
                let reason = format!(
                    "\"{item}\" is not a data category: write one or more of {}, separated by commas",
                    listing(&DataCategory::ALL)
                );
                self.error(Column::DataCategories, reason);
                continue;
            };
            if !categories.contains(&category) {
                categories.push(category);
            }
        }
        if categories.len() > 1 && categories.contains(&DataCategory::None) {
            let reason =
                "\"none\" cannot be combined with other categories: remove \"none\" or the others"
                    .to_owned();
            self.error(Column::DataCategories, reason);
        }
        categories.sort();
        categories
    }

    fn yes_no(&mut self, column: Column) -> Option<bool> {
        let text = self.text(column);
        if let Some(flag) = parse_yes_no(&text) {
            return Some(flag);
        }
        if !self.has_error(column) {
            let reason = if text.is_empty() {
                "is empty: write yes or no".to_owned()
            } else {
                format!("\"{text}\" is not yes/no: write yes or no")
            };
            self.error(column, reason);
        }
        None
    }

    fn owner(&mut self) -> Option<String> {
        let text = collapse_whitespace(&self.text(Column::Owner));
        self.check_length(Column::Owner, &text, MAX_NAME_CHARS);
        (!text.is_empty()).then_some(text)
    }

    fn check_length(&mut self, column: Column, text: &str, limit: usize) {
        let length = text.chars().count();
        if length > limit {
            let reason = format!("is {length} characters long: shorten it to at most {limit}");
            self.error(column, reason);
        }
    }

    fn has_error(&self, column: Column) -> bool {
        self.errors
            .iter()
            .any(|error| error.column == column.name())
    }
}
