//! Collects what each listing of a scope covered and turns it into a [`CrawlReport`].

use agents::net::CallError;
use agents::{CrawlError, CrawlReport};

use crate::call::Listing;

/// The coverage of one scope, or of one service in it, while the crawl runs.
#[derive(Debug, Default)]
pub(crate) struct Coverage {
    /// Resources read, with or without a finding.
    pub(crate) num_items: u64,
    /// Calls that returned a response.
    calls_ok: u32,
    /// Calls that failed in a way a later crawl may not (throttled, timed out, 5xx).
    calls_failed: u32,
    report: CrawlReport,
    not_enabled: Vec<String>,
    malformed: Vec<String>,
}

impl Coverage {
    /// Records a successful call.
    pub(crate) fn ok(&mut self) {
        self.calls_ok += 1;
    }

    /// Records a non-fatal problem worth showing.
    pub(crate) fn issue(&mut self, message: String) {
        self.report.issues.push(message);
    }

    /// Records the end of a listing: counts its items and records a paging stop or the
    /// error that ended it.
    pub(crate) fn listing<T>(&mut self, listing: &Listing<T>) {
        self.num_items += listing.items.len() as u64;
        if let Some(reason) = &listing.stopped {
            self.report.incomplete.push(reason.clone());
        }
        match &listing.error {
            None => self.calls_ok += 1,
            Some(error) => {
                if !listing.items.is_empty() {
                    // Pages were read before the error: the listing is cut short.
                    self.calls_ok += 1;
                }
                self.error(error.clone());
            }
        }
    }

    /// Records a failed call by kind: a gap, a skip reason, a malformed response, or an
    /// incomplete listing.
    pub(crate) fn error(&mut self, error: CallError) {
        match &error {
            CallError::Denied { .. } => {
                if let Some(gap) = error.coverage_gap() {
                    self.report.gaps.push(gap);
                }
            }
            CallError::NotEnabled { .. } => self.not_enabled.push(error.to_string()),
            CallError::NotFound { .. } => self.report.issues.push(error.to_string()),
            CallError::Malformed { .. } => self.malformed.push(error.to_string()),
            CallError::Throttled { .. }
            | CallError::Timeout { .. }
            | CallError::Status { .. }
            | CallError::Transport { .. } => {
                self.calls_failed += 1;
                self.report.incomplete.push(error.to_string());
            }
        }
    }

    /// Adds another service's coverage to this one.
    pub(crate) fn merge(&mut self, other: Coverage) {
        self.num_items += other.num_items;
        self.calls_ok += other.calls_ok;
        self.calls_failed += other.calls_failed;
        self.report.issues.extend(other.report.issues);
        self.report.gaps.extend(other.report.gaps);
        self.report.incomplete.extend(other.report.incomplete);
        self.not_enabled.extend(other.not_enabled);
        self.malformed.extend(other.malformed);
    }

    /// Finishes the scope's report.
    ///
    /// A malformed response fails the scope; a scope where every call found the region or
    /// service absent is skipped; a scope where every call failed for a passing reason
    /// fails so the crawl is retried; otherwise the report lists gaps and cut listings.
    pub(crate) fn finish(self, scope_id: &str) -> Result<CrawlReport, CrawlError> {
        let mut report = self.report;
        report.num_items = self.num_items;
        if !self.malformed.is_empty() {
            return Err(CrawlError::permanent(format!(
                "scope `{scope_id}` failed: {}",
                self.malformed.join("; ")
            )));
        }
        let nothing_answered = self.calls_ok == 0 && report.gaps.is_empty();
        if nothing_answered && self.calls_failed == 0 && !self.not_enabled.is_empty() {
            report.skipped = Some(format!(
                "the region is not enabled or offers none of the services: {}",
                self.not_enabled[0]
            ));
            return Ok(report);
        }
        if nothing_answered && self.calls_failed > 0 {
            return Err(CrawlError::transient(format!(
                "scope `{scope_id}` failed: every call failed: {}",
                report.incomplete.join("; ")
            )));
        }
        report.issues.extend(self.not_enabled);
        Ok(report)
    }
}

#[cfg(test)]
mod tests;
