//! Annex III entries of a declaration: the eight areas, their lettered points, and the
//! `annex_iii` field that contains `none`, one entry or a list.

use std::fmt;
use std::str::FromStr;

use serde::de::{self, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// One of the eight high-risk areas of EU AI Act Annex III.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AnnexIiiArea {
    /// Point 1: remote identification, categorisation and emotion recognition.
    Biometrics,
    /// Point 2: safety components of critical infrastructure.
    CriticalInfrastructure,
    /// Point 3: education and vocational training.
    Education,
    /// Point 4: employment and worker management.
    Employment,
    /// Point 5: access to essential private and public services and benefits.
    EssentialServices,
    /// Point 6: law enforcement.
    LawEnforcement,
    /// Point 7: migration, asylum and border control.
    MigrationBorder,
    /// Point 8: administration of justice and democratic processes.
    JusticeDemocracy,
}

impl AnnexIiiArea {
    /// Every area, in Annex III order.
    pub const ALL: [AnnexIiiArea; 8] = [
        AnnexIiiArea::Biometrics,
        AnnexIiiArea::CriticalInfrastructure,
        AnnexIiiArea::Education,
        AnnexIiiArea::Employment,
        AnnexIiiArea::EssentialServices,
        AnnexIiiArea::LawEnforcement,
        AnnexIiiArea::MigrationBorder,
        AnnexIiiArea::JusticeDemocracy,
    ];

    /// Returns the area slug used in `secruna.yaml` and the `system.annex_iii_area` fact.
    pub fn slug(self) -> &'static str {
        match self {
            AnnexIiiArea::Biometrics => "biometrics",
            AnnexIiiArea::CriticalInfrastructure => "critical-infrastructure",
            AnnexIiiArea::Education => "education",
            AnnexIiiArea::Employment => "employment",
            AnnexIiiArea::EssentialServices => "essential-services",
            AnnexIiiArea::LawEnforcement => "law-enforcement",
            AnnexIiiArea::MigrationBorder => "migration-border",
            AnnexIiiArea::JusticeDemocracy => "justice-democracy",
        }
    }

    /// Returns the Annex III point number, 1 to 8.
    pub fn number(self) -> u8 {
        match self {
            AnnexIiiArea::Biometrics => 1,
            AnnexIiiArea::CriticalInfrastructure => 2,
            AnnexIiiArea::Education => 3,
            AnnexIiiArea::Employment => 4,
            AnnexIiiArea::EssentialServices => 5,
            AnnexIiiArea::LawEnforcement => 6,
            AnnexIiiArea::MigrationBorder => 7,
            AnnexIiiArea::JusticeDemocracy => 8,
        }
    }

    /// Returns the letters of the sub-points the area has; point 2 has none.
    pub fn sub_points(self) -> &'static str {
        match self {
            AnnexIiiArea::Biometrics => "abc",
            AnnexIiiArea::CriticalInfrastructure => "",
            AnnexIiiArea::Education => "abcd",
            AnnexIiiArea::Employment => "ab",
            AnnexIiiArea::EssentialServices => "abcd",
            AnnexIiiArea::LawEnforcement => "abcde",
            AnnexIiiArea::MigrationBorder => "abcd",
            AnnexIiiArea::JusticeDemocracy => "ab",
        }
    }
}

/// An Annex III entry: a whole area, or one lettered point inside it such as `4a`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AnnexIiiPoint {
    /// The area the entry belongs to.
    pub area: AnnexIiiArea,
    /// The lettered point, when one is named.
    pub letter: Option<char>,
}

impl AnnexIiiPoint {
    /// Returns the code for the `system.annex_iii` fact: `4a` for a point, `4` for a whole area.
    pub fn code(self) -> String {
        match self.letter {
            Some(letter) => format!("{}{letter}", self.area.number()),
            None => self.area.number().to_string(),
        }
    }
}

/// Expected forms of an Annex III entry, for error messages.
const ANNEX_III_EXPECTED: &str = "an area slug (biometrics, critical-infrastructure, education, \
employment, essential-services, law-enforcement, migration-border, justice-democracy), a point \
code such as 4a, or none";

impl fmt::Display for AnnexIiiPoint {
    /// Writes the point code for a lettered point and the area slug for a whole area.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.letter {
            Some(_) => f.write_str(&self.code()),
            None => f.write_str(self.area.slug()),
        }
    }
}

impl FromStr for AnnexIiiPoint {
    type Err = String;

    /// Parses an area slug (`employment`), an area number (`4`) or a point code (`4a`).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let invalid =
            || format!("annex_iii entry `{text}` is invalid: expected {ANNEX_III_EXPECTED}");
        if let Some(area) = AnnexIiiArea::ALL
            .into_iter()
            .find(|area| area.slug() == text)
        {
            return Ok(AnnexIiiPoint { area, letter: None });
        }
        let mut chars = text.chars();
        let digit = chars
            .next()
            .and_then(|c| c.to_digit(10))
            .ok_or_else(invalid)?;
        let letter = chars.next();
        if chars.next().is_some() {
            return Err(invalid());
        }
        let area = AnnexIiiArea::ALL
            .into_iter()
            .find(|area| u32::from(area.number()) == digit)
            .ok_or_else(invalid)?;
        match letter {
            None => Ok(AnnexIiiPoint { area, letter: None }),
            Some(letter) if area.sub_points().contains(letter) => Ok(AnnexIiiPoint {
                area,
                letter: Some(letter),
            }),
            Some(_) => Err(format!(
                "annex_iii entry `{text}` is not a point of Annex III area {} ({}): expected {}",
                area.number(),
                area.slug(),
                describe_sub_points(area),
            )),
        }
    }
}

fn describe_sub_points(area: AnnexIiiArea) -> String {
    let codes: Vec<String> = area
        .sub_points()
        .chars()
        .map(|letter| format!("{}{letter}", area.number()))
        .collect();
    match codes.is_empty() {
        true => format!("{} with no letter", area.number()),
        false => format!("one of {}", codes.join(", ")),
    }
}

/// The `annex_iii` field: `none`, one entry, or a list of entries. An empty list means `none`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AnnexIii(pub Vec<AnnexIiiPoint>);

impl AnnexIii {
    /// Returns whether the team declared that the system falls under no Annex III point.
    pub fn is_none(&self) -> bool {
        self.0.is_empty()
    }
}

impl Serialize for AnnexIii {
    /// Writes a list of entries; an empty list stands for `none`.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(ToString::to_string))
    }
}

impl<'de> Deserialize<'de> for AnnexIii {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(AnnexIiiVisitor)
    }
}

struct AnnexIiiVisitor;

impl<'de> Visitor<'de> for AnnexIiiVisitor {
    type Value = AnnexIii;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{ANNEX_III_EXPECTED}, or a list of them")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<AnnexIii, E> {
        if text == "none" {
            return Ok(AnnexIii(Vec::new()));
        }
        text.parse()
            .map(|point| AnnexIii(vec![point]))
            .map_err(E::custom)
    }

    fn visit_u64<E: de::Error>(self, number: u64) -> Result<AnnexIii, E> {
        self.visit_str(&number.to_string())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<AnnexIii, A::Error> {
        let mut points = Vec::new();
        while let Some(entry) = seq.next_element::<AnnexIiiEntry>()? {
            if !points.contains(&entry.0) {
                points.push(entry.0);
            }
        }
        Ok(AnnexIii(points))
    }
}

/// One list entry of `annex_iii`; `none` is only allowed as the whole field.
struct AnnexIiiEntry(AnnexIiiPoint);

impl<'de> Deserialize<'de> for AnnexIiiEntry {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = StringOrNumber::deserialize(deserializer)?.0;
        if text == "none" {
            return Err(de::Error::custom(
                "`none` cannot be a list entry: write `annex_iii: none` or `annex_iii: []`",
            ));
        }
        text.parse().map(AnnexIiiEntry).map_err(de::Error::custom)
    }
}

/// A scalar read as text, so that `annex_iii: [4]` works like `annex_iii: ["4"]`.
struct StringOrNumber(String);

impl<'de> Deserialize<'de> for StringOrNumber {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ScalarVisitor;
        impl Visitor<'_> for ScalarVisitor {
            type Value = StringOrNumber;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(ANNEX_III_EXPECTED)
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<StringOrNumber, E> {
                Ok(StringOrNumber(text.to_owned()))
            }
            fn visit_u64<E: de::Error>(self, number: u64) -> Result<StringOrNumber, E> {
                Ok(StringOrNumber(number.to_string()))
            }
        }
        deserializer.deserialize_any(ScalarVisitor)
    }
}
