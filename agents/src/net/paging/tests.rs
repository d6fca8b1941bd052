use super::{PageGuard, PageStep};

fn continue_with(token: &str) -> PageStep {
    PageStep::Continue(token.to_owned())
}

#[test]
fn follows_tokens_until_none() {
    let mut guard = PageGuard::new("models", 10);
    assert_eq!(guard.next(Some("a")), continue_with("a"));
    assert_eq!(guard.next(Some("b")), continue_with("b"));
    assert_eq!(guard.next(None), PageStep::Done);
    assert_eq!(guard.pages(), 3);
}

#[test]
fn stops_on_empty_token() {
    let mut guard = PageGuard::new("models", 10);
    let PageStep::Stop(reason) = guard.next(Some("")) else {
        panic!("expected a stop");
    };
    assert_eq!(
        reason,
        "listing `models` stopped after page 1 because the page token after page 1 is empty; later pages were not read"
    );
}

#[test]
fn stops_on_repeated_token() {
    let mut guard = PageGuard::new("models", 10);
    guard.next(Some("a"));
    let PageStep::Stop(reason) = guard.next(Some("a")) else {
        panic!("expected a stop");
    };
    assert!(reason.contains("repeats the previous one"), "{reason}");
}

#[test]
fn stops_on_looping_token() {
    let mut guard = PageGuard::new("models", 10);
    guard.next(Some("a"));
    guard.next(Some("b"));
    let PageStep::Stop(reason) = guard.next(Some("a")) else {
        panic!("expected a stop");
    };
    assert!(reason.contains("loops back to an earlier page"), "{reason}");
}

#[test]
fn stops_at_max_pages() {
    let mut guard = PageGuard::new("models", 2);
    assert_eq!(guard.next(Some("a")), continue_with("a"));
    let PageStep::Stop(reason) = guard.next(Some("b")) else {
        panic!("expected a stop");
    };
    assert!(reason.contains("maximum of 2 pages"), "{reason}");
}

#[test]
fn last_allowed_page_without_token_is_done() {
    let mut guard = PageGuard::new("models", 2);
    guard.next(Some("a"));
    assert_eq!(guard.next(None), PageStep::Done);
}
