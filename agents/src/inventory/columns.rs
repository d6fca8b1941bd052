//! The template's columns and the matching of a file's header row to them.

use super::InventoryError;

/// The header row of the template, in template order.
pub(crate) const TEMPLATE_HEADER: &str =
    "vendor,product,purpose,use category,data categories,human review,client facing,owner";

/// A template column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Column {
    Vendor,
    Product,
    Purpose,
    UseCategory,
    DataCategories,
    HumanReview,
    ClientFacing,
    Owner,
}

impl Column {
    /// Every column, in template order.
    pub(crate) const ALL: [Column; 8] = [
        Column::Vendor,
        Column::Product,
        Column::Purpose,
        Column::UseCategory,
        Column::DataCategories,
        Column::HumanReview,
        Column::ClientFacing,
        Column::Owner,
    ];

    /// Returns the column's name in the template.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Column::Vendor => "vendor",
            Column::Product => "product",
            Column::Purpose => "purpose",
            Column::UseCategory => "use category",
            Column::DataCategories => "data categories",
            Column::HumanReview => "human review",
            Column::ClientFacing => "client facing",
            Column::Owner => "owner",
        }
    }

    /// Tells whether a file must have this column. `data categories` and `owner` may be
    /// left out, which leaves those facts unknown.
    fn is_required(self) -> bool {
        !matches!(self, Column::DataCategories | Column::Owner)
    }

    fn index(self) -> usize {
        Column::ALL
            .iter()
            .position(|column| *column == self)
            .unwrap_or_default()
    }
}

/// Where each template column sits in a file.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    /// 0-based cell position of each column of [`Column::ALL`], when present.
    positions: [Option<usize>; 8],
    /// Header cells that name no template column, as written.
    pub(crate) unknown: Vec<String>,
}

impl Layout {
    /// Matches the header cells to the template columns.
    pub(crate) fn from_header(
        header_row: u32,
        header: &[String],
    ) -> Result<Layout, InventoryError> {
        let mut layout = Layout {
            positions: [None; 8],
            unknown: Vec::new(),
        };
        for (position, cell) in header.iter().enumerate() {
            let key = header_key(cell);
            if key.is_empty() {
                continue;
            }
            let Some(column) = Column::ALL.into_iter().find(|column| column.name() == key) else {
                layout.unknown.push(cell.trim().to_owned());
                continue;
            };
            if let Some(first) = layout.positions[column.index()] {
                return Err(InventoryError::DuplicateColumn {
                    header_row,
                    column: column.name().to_owned(),
                    first: first + 1,
                    second: position + 1,
                });
            }
            layout.positions[column.index()] = Some(position);
        }
        layout.check_required(header_row)?;
        Ok(layout)
    }

    fn check_required(&self, header_row: u32) -> Result<(), InventoryError> {
        let missing: Vec<String> = Column::ALL
            .into_iter()
            .filter(|column| column.is_required() && self.position(*column).is_none())
            .map(|column| column.name().to_owned())
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        Err(InventoryError::MissingColumns {
            header_row,
            columns: missing,
        })
    }

    /// Returns the 0-based cell position of a column, if the file has it.
    pub(crate) fn position(&self, column: Column) -> Option<usize> {
        self.positions[column.index()]
    }
}

/// Lower-cases a header cell, reads `_` and `-` as spaces and collapses white space, so
/// `Use_Category`, `use-category` and ` Use  category ` all match `use category`.
fn header_key(cell: &str) -> String {
    let spaced: String = cell
        .chars()
        .map(|character| match character {
            '_' | '-' => ' ',
            other => other,
        })
        .collect();
    super::normalise(&spaced)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(cells: &[&str]) -> Vec<String> {
        cells.iter().map(|cell| (*cell).to_owned()).collect()
    }

    #[test]
    fn header_matches_case_and_separators() {
        let cells = header(&[
            "Vendor",
            "PRODUCT",
            " purpose ",
            "Use_Category",
            "data-categories",
            "human  review",
            "client_facing",
            "Owner",
        ]);
        let layout = Layout::from_header(1, &cells).expect("valid header");
        for (position, column) in Column::ALL.into_iter().enumerate() {
            assert_eq!(layout.position(column), Some(position), "{}", column.name());
        }
        assert!(layout.unknown.is_empty());
    }

    #[test]
    fn header_lists_unknown_columns() {
        let cells = header(&[
            "vendor",
            "product",
            "purpose",
            "use category",
            "human review",
            "client facing",
            "Licence cost",
            "",
        ]);
        let layout = Layout::from_header(1, &cells).expect("valid header");
        assert_eq!(layout.unknown, vec!["Licence cost".to_owned()]);
        assert_eq!(layout.position(Column::Owner), None);
    }

    #[test]
    fn header_without_required_columns_names_them() {
        let cells = header(&["vendor", "purpose", "use category", "human review"]);
        let error = Layout::from_header(2, &cells).expect_err("product and client facing missing");
        assert_eq!(
            error,
            InventoryError::MissingColumns {
                header_row: 2,
                columns: vec!["product".to_owned(), "client facing".to_owned()],
            }
        );
    }

    #[test]
    fn header_with_repeated_column_is_rejected() {
        let cells = header(&["vendor", "product", "Vendor"]);
        let error = Layout::from_header(1, &cells).expect_err("vendor twice");
        assert_eq!(
            error,
            InventoryError::DuplicateColumn {
                header_row: 1,
                column: "vendor".to_owned(),
                first: 1,
                second: 3,
            }
        );
    }
}
