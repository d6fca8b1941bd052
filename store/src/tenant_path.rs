//! Tenant slugs, their ltree paths, and the tenant context of a transaction.
//!
//! A slug becomes one ltree label by escaping: the bytes `a`-`z` and `0`-`9`
//! pass through and every other byte, `_` and upper case included, becomes
//! `_` followed by two lower-case hex digits. Because `_` only ever starts an
//! escape, the mapping is injective: `a-b`, `a_b`, `a.b`, `A-b` and `á-b` give
//! five different labels. The labels use only characters that every
//! PostgreSQL version accepts in ltree.

use std::fmt;

use crate::SlugError;

/// Maximum length of one ltree label: PostgreSQL 15 accepts 255 characters and
/// rejects 256 with "label string is too long".
pub const MAX_LABEL_LEN: usize = 255;

/// Maximum number of levels in a tenant path (`acme/emea/fr` has three).
pub const MAX_DEPTH: usize = 32;

/// Maximum length in bytes of a whole ltree path, dots included. The path is
/// a key of btree and GiST indexes, and a btree entry must stay under
/// 2,704 bytes (PostgreSQL 12 and later, 8 kB pages), so this leaves room for the
/// other columns of a composite key.
pub const MAX_PATH_BYTES: usize = 2000;

/// Separator between a parent slug and a child slug in a slug path.
pub const SLUG_SEPARATOR: char = '/';

/// Maps one tenant slug to its ltree label.
///
/// The mapping works on the exact UTF-8 bytes: a composed and a decomposed
/// accent give different labels, so callers that want them equal normalise
/// the slug first.
pub fn slug_to_label(slug: &str) -> Result<String, SlugError> {
    if slug.is_empty() {
        return Err(SlugError::Empty {
            slug_path: slug.to_owned(),
        });
    }
    if let Some((offset, ch)) = slug
        .char_indices()
        .find(|(_, ch)| ch.is_control() || ch.is_whitespace() || *ch == SLUG_SEPARATOR)
    {
        return Err(SlugError::InvalidCharacter {
            slug: slug.to_owned(),
            character: describe_char(ch),
            offset,
        });
    }

    let mut label = String::with_capacity(slug.len());
    for byte in slug.bytes() {
        if byte.is_ascii_lowercase() || byte.is_ascii_digit() {
            label.push(char::from(byte));
        } else {
            label.push('_');
            label.push_str(&hex::encode([byte]));
        }
    }

    if label.len() > MAX_LABEL_LEN {
        return Err(SlugError::TooLong {
            slug: slug.to_owned(),
            label_len: label.len(),
            max: MAX_LABEL_LEN,
        });
    }
    Ok(label)
}

/// Maps an ltree label produced by [`slug_to_label`] back to its slug.
pub fn label_to_slug(label: &str) -> Result<String, SlugError> {
    let invalid = || SlugError::InvalidLabel {
        label: label.to_owned(),
    };
    let mut bytes = Vec::with_capacity(label.len());
    let mut rest = label.as_bytes();
    while let Some((&first, tail)) = rest.split_first() {
        if first == b'_' {
            let escaped = tail.get(..2).ok_or_else(invalid)?;
            let decoded = hex::decode(escaped).map_err(|_| invalid())?;
            bytes.extend(decoded);
            rest = &tail[2..];
        } else if first.is_ascii_lowercase() || first.is_ascii_digit() {
            bytes.push(first);
            rest = tail;
        } else {
            return Err(invalid());
        }
    }
    String::from_utf8(bytes).map_err(|_| invalid())
}

fn describe_char(ch: char) -> String {
    if ch == SLUG_SEPARATOR {
        "the path separator `/`".to_owned()
    } else if ch.is_whitespace() {
        format!("whitespace U+{:04X}", u32::from(ch))
    } else {
        format!("control character U+{:04X}", u32::from(ch))
    }
}

/// Position of a tenant in the tenant tree, as an ltree of escaped slugs.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TenantPath {
    ltree: String,
}

impl TenantPath {
    /// Builds the path of a slug path such as `acme/emea` (parent first).
    pub fn from_slug_path(slugs: &str) -> Result<TenantPath, SlugError> {
        let depth = slugs.split(SLUG_SEPARATOR).count();
        if depth > MAX_DEPTH {
            return Err(SlugError::TooDeep {
                depth,
                max: MAX_DEPTH,
            });
        }
        let mut labels = Vec::new();
        for slug in slugs.split(SLUG_SEPARATOR) {
            if slug.is_empty() {
                return Err(SlugError::Empty {
                    slug_path: slugs.to_owned(),
                });
            }
            labels.push(slug_to_label(slug)?);
        }
        let ltree = labels.join(".");
        if ltree.len() > MAX_PATH_BYTES {
            return Err(SlugError::PathTooLong {
                path_len: ltree.len(),
                max: MAX_PATH_BYTES,
            });
        }
        Ok(TenantPath { ltree })
    }

    /// Parses an ltree text as stored in the database, checking each label.
    pub fn from_ltree(ltree: &str) -> Result<TenantPath, SlugError> {
        for label in ltree.split('.') {
            label_to_slug(label)?;
        }
        Ok(TenantPath {
            ltree: ltree.to_owned(),
        })
    }

    /// Returns the ltree text, as bound to `app.current_tenant_path`.
    pub fn as_str(&self) -> &str {
        &self.ltree
    }

    /// Rebuilds the slug path (`acme/emea`) from the labels.
    pub fn slug_path(&self) -> String {
        self.ltree
            .split('.')
            .map(|label| label_to_slug(label).unwrap_or_else(|_| label.to_owned()))
            .collect::<Vec<_>>()
            .join("/")
    }

    /// Returns the paths from the root tenant down to this one, this one last.
    pub fn ancestors_and_self(&self) -> Vec<TenantPath> {
        let labels: Vec<&str> = self.ltree.split('.').collect();
        (1..=labels.len())
            .map(|depth| TenantPath {
                ltree: labels[..depth].join("."),
            })
            .collect()
    }

    /// Returns the parent path, or `None` for a root tenant.
    pub fn parent(&self) -> Option<TenantPath> {
        let (parent, _) = self.ltree.rsplit_once('.')?;
        Some(TenantPath {
            ltree: parent.to_owned(),
        })
    }

    /// Tells whether `self` equals `other` or lies below it in the tree.
    pub fn is_within(&self, other: &TenantPath) -> bool {
        self.ltree == other.ltree
            || self
                .ltree
                .strip_prefix(&other.ltree)
                .is_some_and(|rest| rest.starts_with('.'))
    }
}

impl fmt::Display for TenantPath {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.ltree)
    }
}

/// Tenant on whose behalf a transaction runs; row-level security shows that
/// tenant and its subsidiaries, nothing else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantContext {
    path: TenantPath,
}

impl TenantContext {
    /// Creates the context of one tenant.
    pub fn new(path: TenantPath) -> Self {
        TenantContext { path }
    }

    /// Returns the tenant's path.
    pub fn path(&self) -> &TenantPath {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_deeper_than_limit_is_rejected() {
        let at_limit = vec!["a"; MAX_DEPTH].join("/");
        let path = TenantPath::from_slug_path(&at_limit).unwrap();
        assert_eq!(path.as_str().split('.').count(), MAX_DEPTH);

        let too_deep = vec!["a"; 2000].join("/");
        let error = TenantPath::from_slug_path(&too_deep).unwrap_err();
        assert_eq!(
            error,
            SlugError::TooDeep {
                depth: 2000,
                max: MAX_DEPTH
            }
        );
        assert!(error.to_string().contains("at most 32 slugs"), "{error}");
    }

    #[test]
    fn path_longer_than_byte_limit_is_rejected() {
        // Eight 255-byte labels and seven dots: 2,047 bytes in 8 levels.
        let label = "a".repeat(MAX_LABEL_LEN);
        let long = [label.as_str(); 8].join("/");
        let error = TenantPath::from_slug_path(&long).unwrap_err();
        assert_eq!(
            error,
            SlugError::PathTooLong {
                path_len: 2047,
                max: MAX_PATH_BYTES
            }
        );
        assert!(
            error.to_string().contains("over the limit of 2000 bytes"),
            "{error}"
        );

        let seven = [label.as_str(); 7].join("/");
        assert_eq!(
            TenantPath::from_slug_path(&seven).unwrap().as_str().len(),
            1791
        );
    }

    #[test]
    fn lowercase_and_digits_pass_through() {
        assert_eq!(slug_to_label("acme2").unwrap(), "acme2");
    }

    #[test]
    fn look_alike_slugs_map_to_distinct_labels() {
        let slugs = ["a-b", "a_b", "a.b", "A-b", "á-b", "ab", "a_2db"];
        let labels: Vec<String> = slugs.iter().map(|s| slug_to_label(s).unwrap()).collect();
        assert_eq!(labels[0], "a_2db");
        assert_eq!(labels[1], "a_5fb");
        assert_eq!(labels[2], "a_2eb");
        assert_eq!(labels[3], "_41_2db");
        assert_eq!(labels[4], "_c3_a1_2db");
        assert_eq!(labels[6], "a_5f2db");
        let unique: std::collections::BTreeSet<&String> = labels.iter().collect();
        assert_eq!(unique.len(), slugs.len());
    }

    #[test]
    fn labels_decode_to_the_original_slug() {
        for slug in ["a-b", "Acme_Corp", "zürich", "x.y", "日本"] {
            let label = slug_to_label(slug).unwrap();
            assert_eq!(label_to_slug(&label).unwrap(), slug);
        }
    }

    #[test]
    fn rejects_empty_whitespace_control_and_separator() {
        assert!(matches!(slug_to_label(""), Err(SlugError::Empty { .. })));
        assert!(matches!(
            slug_to_label("a b"),
            Err(SlugError::InvalidCharacter { offset: 1, .. })
        ));
        assert!(matches!(
            slug_to_label("a\u{7}"),
            Err(SlugError::InvalidCharacter { offset: 1, .. })
        ));
        assert!(matches!(
            slug_to_label("a/b"),
            Err(SlugError::InvalidCharacter { offset: 1, .. })
        ));
    }

    #[test]
    fn rejects_slug_whose_label_is_too_long() {
        assert_eq!(slug_to_label(&"a".repeat(255)).unwrap().len(), 255);
        let error = slug_to_label(&"A".repeat(86)).unwrap_err();
        assert_eq!(
            error,
            SlugError::TooLong {
                slug: "A".repeat(86),
                label_len: 258,
                max: 255
            }
        );
        assert!(error.to_string().contains("use a shorter slug"));
    }

    #[test]
    fn slug_path_builds_dotted_ltree() {
        let path = TenantPath::from_slug_path("acme/EMEA").unwrap();
        assert_eq!(path.as_str(), "acme._45_4d_45_41");
        assert_eq!(path.slug_path(), "acme/EMEA");
        assert_eq!(path.parent().unwrap().as_str(), "acme");
        assert!(path.is_within(&TenantPath::from_slug_path("acme").unwrap()));
        assert!(
            !TenantPath::from_slug_path("acme2")
                .unwrap()
                .is_within(&path.parent().unwrap())
        );
    }

    #[test]
    fn slug_path_rejects_empty_segment() {
        assert!(matches!(
            TenantPath::from_slug_path("acme//emea"),
            Err(SlugError::Empty { .. })
        ));
        assert!(matches!(
            TenantPath::from_slug_path("acme/"),
            Err(SlugError::Empty { .. })
        ));
    }
}
