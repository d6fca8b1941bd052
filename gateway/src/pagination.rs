//! Cursor pagination shared by every list endpoint.
//!
//! A cursor is the sort key of the last row of a page, `<microseconds since
//! the epoch>.<uuid>`. Clients treat it as opaque and pass it back as
//! `cursor`.

use chrono::DateTime;
use serde::{Deserialize, Serialize};
use store::listing::{Cursor, PageRequest};
use utoipa::{IntoParams, ToSchema};

use crate::problem::ApiError;

/// Rows per page when `limit` is not given.
pub const DEFAULT_PAGE_SIZE: i64 = 50;

/// Largest `limit` accepted.
pub const MAX_PAGE_SIZE: i64 = 500;

/// Page parameters of a list request.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct PageQuery {
    /// `next_cursor` of the previous page; omit for the first page.
    pub(crate) cursor: Option<String>,
    /// Rows per page, 1 to 500 (default 50).
    pub(crate) limit: Option<i64>,
}

/// One page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Page<T> {
    /// Rows of this page.
    pub(crate) items: Vec<T>,
    /// Cursor of the next page; `null` on the last page.
    pub(crate) next_cursor: Option<String>,
}

impl PageQuery {
    /// Validates the parameters and requests one row more than the page size
    /// from the store, to tell whether another page follows.
    pub(crate) fn to_request(&self) -> Result<PageRequest, ApiError> {
        let limit = self.limit.unwrap_or(DEFAULT_PAGE_SIZE);
        if !(1..=MAX_PAGE_SIZE).contains(&limit) {
            return Err(ApiError::invalid(
                "limit",
                format!("limit {limit} is out of range; pass 1 to {MAX_PAGE_SIZE}"),
            ));
        }
        let after = self.cursor.as_deref().map(decode_cursor).transpose()?;
        Ok(PageRequest {
            after,
            limit: limit + 1,
        })
    }
}

/// Cuts the extra row fetched by [`PageQuery::to_request`] and builds the
/// next cursor from the last row kept.
pub(crate) fn into_page<T, U>(
    mut rows: Vec<T>,
    request: PageRequest,
    key: impl Fn(&T) -> Cursor,
    view: impl Fn(T) -> U,
) -> Page<U> {
    let page_size = usize::try_from(request.limit - 1).unwrap_or(0);
    let has_more = rows.len() > page_size;
    rows.truncate(page_size);
    let next_cursor = if has_more {
        rows.last().map(|row| encode_cursor(key(row)))
    } else {
        None
    };
    Page {
        items: rows.into_iter().map(view).collect(),
        next_cursor,
    }
}

/// Writes a cursor as `<micros>.<uuid>`.
pub(crate) fn encode_cursor(cursor: Cursor) -> String {
    format!("{}.{}", cursor.at.timestamp_micros(), cursor.id)
}

fn decode_cursor(text: &str) -> Result<Cursor, ApiError> {
    let invalid = || {
        ApiError::invalid(
            "cursor",
            format!(
                "cursor `{text}` is not a cursor this API issued; pass `next_cursor` of the \
                 previous page unchanged"
            ),
        )
    };
    let (micros, id) = text.split_once('.').ok_or_else(invalid)?;
    let micros: i64 = micros.parse().map_err(|_| invalid())?;
    let at = DateTime::from_timestamp_micros(micros).ok_or_else(invalid)?;
    let id = id.parse().map_err(|_| invalid())?;
    Ok(Cursor { at, id })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips() {
        let cursor = Cursor {
            at: DateTime::from_timestamp_micros(1_796_400_000_123_456).unwrap(),
            id: uuid::Uuid::nil(),
        };
        assert_eq!(decode_cursor(&encode_cursor(cursor)).unwrap(), cursor);
    }

    #[test]
    fn malformed_cursor_names_the_field() {
        let error = decode_cursor("yesterday").unwrap_err();
        assert!(
            matches!(error, ApiError::Invalid { field: Some(ref field), .. } if field == "cursor")
        );
    }
}
