//! Guards against paging tokens that never end a listing.

use std::collections::HashSet;

/// The next step of a listing after one page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageStep {
    /// Fetch the next page with this token.
    Continue(String),
    /// The listing is complete.
    Done,
    /// The listing was cut short; push the reason to
    /// [`CrawlReport::incomplete`](crate::CrawlReport::incomplete).
    Stop(String),
}

/// Follows the paging tokens of one listing and stops it when a token is empty, repeats the
/// previous one, returns to an earlier one, or the page count reaches its maximum.
///
/// An API that sends an empty string to mean "no more pages" should be given `None` for it.
#[derive(Debug, Clone)]
pub struct PageGuard {
    listing: String,
    max_pages: u32,
    pages: u32,
    previous: Option<String>,
    seen: HashSet<String>,
}

impl PageGuard {
    /// Creates a guard for `listing` (named in stop reasons) that allows at most
    /// `max_pages` pages (at least 1).
    pub fn new(listing: &str, max_pages: u32) -> Self {
        PageGuard {
            listing: listing.to_owned(),
            max_pages: max_pages.max(1),
            pages: 0,
            previous: None,
            seen: HashSet::new(),
        }
    }

    /// Records one fetched page whose next-page token is `token`, and returns what to do.
    pub fn next(&mut self, token: Option<&str>) -> PageStep {
        self.pages += 1;
        let Some(token) = token else {
            return PageStep::Done;
        };
        let pages = self.pages;
        if token.is_empty() {
            return self.stop(format!("the page token after page {pages} is empty"));
        }
        if self.previous.as_deref() == Some(token) {
            return self.stop(format!(
                "the page token after page {pages} repeats the previous one"
            ));
        }
        if self.seen.contains(token) {
            return self.stop(format!(
                "the page token after page {pages} loops back to an earlier page"
            ));
        }
        if pages >= self.max_pages {
            return self.stop(format!(
                "it reached the maximum of {} pages",
                self.max_pages
            ));
        }
        self.seen.insert(token.to_owned());
        self.previous = Some(token.to_owned());
        PageStep::Continue(token.to_owned())
    }

    /// Returns the pages recorded so far.
    pub fn pages(&self) -> u32 {
        self.pages
    }

    fn stop(&self, why: String) -> PageStep {
        tracing::warn!(listing = %self.listing, pages = self.pages, reason = %why, "listing stopped early");
        PageStep::Stop(format!(
            "listing `{}` stopped after page {} because {why}; later pages were not read",
            self.listing, self.pages
        ))
    }
}

#[cfg(test)]
mod tests;
