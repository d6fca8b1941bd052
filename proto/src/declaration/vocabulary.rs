//! Value types of a `secruna.yaml` declaration: roles, Annex III points, Article 5 practices
//! and the other closed vocabularies, each with the spelling the file uses.

use std::fmt;
use std::str::FromStr;

use serde::de::{self, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The operator role under the EU AI Act (Art 3(3) provider, Art 3(4) deployer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Develops the system, or has it developed, and places it on the market under its name.
    Provider,
    /// Uses the system under its authority.
    Deployer,
}

impl Role {
    /// Returns the spelling used in `secruna.yaml` and in the `system.role` fact.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Provider => "provider",
            Role::Deployer => "deployer",
        }
    }
}

/// Kind of human supervision of the system's output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HumanOversight {
    /// No human reviews the output.
    None,
    /// A human approves each output before it takes effect.
    InTheLoop,
    /// A human monitors the running system and can intervene.
    OnTheLoop,
}

impl HumanOversight {
    /// Returns the spelling used in `secruna.yaml` and in the `system.human_oversight` fact.
    pub fn as_str(self) -> &'static str {
        match self {
            HumanOversight::None => "none",
            HumanOversight::InTheLoop => "in_the_loop",
            HumanOversight::OnTheLoop => "on_the_loop",
        }
    }
}

/// Origin of the model behind the system.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelSource {
    /// Trained by the team.
    InHouse,
    /// A third-party model fine-tuned by the team.
    FineTuned,
    /// Published weights used as they are.
    OpenWeights,
    /// A model reached through a vendor's API.
    VendorApi,
    /// A model embedded in a bought SaaS product.
    EmbeddedSaas,
}

impl ModelSource {
    /// Returns the spelling used in `secruna.yaml` and in the `system.model_source` fact.
    pub fn as_str(self) -> &'static str {
        match self {
            ModelSource::InHouse => "in_house",
            ModelSource::FineTuned => "fine_tuned",
            ModelSource::OpenWeights => "open_weights",
            ModelSource::VendorApi => "vendor_api",
            ModelSource::EmbeddedSaas => "embedded_saas",
        }
    }
}

/// A kind of document the team keeps for the system.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    /// A model card.
    ModelCard,
    /// The technical file (EU AI Act Annex IV).
    TechnicalFile,
    /// Instructions for use given to deployers.
    InstructionsForUse,
    /// A datasheet describing the training, validation and test data.
    Datasheet,
}

impl DocumentKind {
    /// Returns the spelling used in `secruna.yaml` and in the `system.documentation` fact.
    pub fn as_str(self) -> &'static str {
        match self {
            DocumentKind::ModelCard => "model_card",
            DocumentKind::TechnicalFile => "technical_file",
            DocumentKind::InstructionsForUse => "instructions_for_use",
            DocumentKind::Datasheet => "datasheet",
        }
    }
}

/// A practice prohibited by EU AI Act Art 5(1), spelled as in `secruna.yaml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Article5Practice {
    /// Art 5(1)(a): subliminal, manipulative or deceptive techniques causing significant harm.
    Manipulation,
    /// Art 5(1)(b): exploiting vulnerabilities due to age, disability or social or economic situation.
    ExploitationOfVulnerabilities,
    /// Art 5(1)(c): social scoring leading to unjustified or unrelated detrimental treatment.
    SocialScoring,
    /// Art 5(1)(d): predicting that a person will commit a crime from profiling alone.
    CrimePredictionByProfiling,
    /// Art 5(1)(e): building face-recognition databases by untargeted scraping.
    UntargetedFaceScraping,
    /// Art 5(1)(f): inferring emotions at the workplace or in education.
    EmotionRecognitionWorkEducation,
    /// Art 5(1)(g): biometric categorisation inferring sensitive traits.
    BiometricCategorisationSensitive,
    /// Art 5(1)(h): real-time remote biometric identification in public spaces for law enforcement.
    RealTimeRemoteBiometricIdentification,
    /// Generating non-consensual intimate imagery or child sexual abuse material, added to
    /// Art 5 by the 2026 Digital Omnibus amendment.
    IntimateImageryCsam,
}

impl Article5Practice {
    /// Every practice, in the order of Art 5(1).
    pub const ALL: [Article5Practice; 9] = [
        Article5Practice::Manipulation,
        Article5Practice::ExploitationOfVulnerabilities,
        Article5Practice::SocialScoring,
        Article5Practice::CrimePredictionByProfiling,
        Article5Practice::UntargetedFaceScraping,
        Article5Practice::EmotionRecognitionWorkEducation,
        Article5Practice::BiometricCategorisationSensitive,
        Article5Practice::RealTimeRemoteBiometricIdentification,
        Article5Practice::IntimateImageryCsam,
    ];

    /// Returns the slug used in `secruna.yaml`.
    pub fn as_str(self) -> &'static str {
        match self {
            Article5Practice::Manipulation => "manipulation",
            Article5Practice::ExploitationOfVulnerabilities => "exploitation-of-vulnerabilities",
            Article5Practice::SocialScoring => "social-scoring",
            Article5Practice::CrimePredictionByProfiling => "crime-prediction-by-profiling",
            Article5Practice::UntargetedFaceScraping => "untargeted-face-scraping",
            Article5Practice::EmotionRecognitionWorkEducation => {
                "emotion-recognition-work-education"
            }
            Article5Practice::BiometricCategorisationSensitive => {
                "biometric-categorisation-sensitive"
            }
            Article5Practice::RealTimeRemoteBiometricIdentification => {
                "real-time-remote-biometric-identification"
            }
            Article5Practice::IntimateImageryCsam => "intimate-imagery-csam",
        }
    }

    /// Returns the name used in the `system.prohibited_practice_flags` fact of the rule book.
    pub fn fact_flag(self) -> &'static str {
        match self {
            Article5Practice::Manipulation => "manipulation",
            Article5Practice::ExploitationOfVulnerabilities => "vulnerability_exploitation",
            Article5Practice::SocialScoring => "social_scoring",
            Article5Practice::CrimePredictionByProfiling => "crime_prediction_profiling",
            Article5Practice::UntargetedFaceScraping => "face_scraping",
            Article5Practice::EmotionRecognitionWorkEducation => "emotion_workplace_education",
            Article5Practice::BiometricCategorisationSensitive => {
                "sensitive_biometric_categorisation"
            }
            Article5Practice::RealTimeRemoteBiometricIdentification => {
                "realtime_rbi_law_enforcement"
            }
            Article5Practice::IntimateImageryCsam => "intimate_imagery_csam",
        }
    }
}

impl fmt::Display for Article5Practice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Article5Practice {
    type Err = String;

    fn from_str(slug: &str) -> Result<Self, Self::Err> {
        Article5Practice::ALL
            .into_iter()
            .find(|practice| practice.as_str() == slug)
            .ok_or_else(|| {
                let names: Vec<&str> = Article5Practice::ALL.iter().map(|p| p.as_str()).collect();
                format!(
                    "unknown Article 5 practice `{slug}`: expected one of {}",
                    names.join(", ")
                )
            })
    }
}

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

/// A market code such as `eu`, `uk` or `us`, stored in lower case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Market(String);

impl Market {
    /// Returns the lower-case code.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Market {
    type Error = String;

    fn try_from(code: String) -> Result<Self, Self::Error> {
        let valid = code.len() >= 2 && code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        match valid {
            true => Ok(Market(code.to_ascii_lowercase())),
            false => Err(format!(
                "market `{code}` is invalid: expected a region code of letters, digits and `-` such as eu, uk or us"
            )),
        }
    }
}

impl From<Market> for String {
    fn from(market: Market) -> String {
        market.0
    }
}

/// Evidence the team has in place: an id that rule-book evidence entries refer to, and
/// optionally the path of the document that contains it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct EvidenceItem {
    /// Evidence id, such as `risk-register` or `log-schema`.
    pub id: String,
    /// Path of the document, relative to the project root.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document: Option<String>,
}

/// The map form of an evidence entry, with the same field names as [`EvidenceItem`].
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EvidenceMap {
    id: String,
    document: Option<String>,
}

impl<'de> Deserialize<'de> for EvidenceItem {
    /// Reads either a bare id (`- risk-register`) or a map (`- {id: ..., document: ...}`).
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(EvidenceVisitor)
    }
}

struct EvidenceVisitor;

impl<'de> Visitor<'de> for EvidenceVisitor {
    type Value = EvidenceItem;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an evidence id, or a map with `id` and an optional `document` path")
    }

    fn visit_str<E: de::Error>(self, id: &str) -> Result<EvidenceItem, E> {
        let id = validate_evidence_id(id).map_err(E::custom)?;
        Ok(EvidenceItem { id, document: None })
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<EvidenceItem, A::Error> {
        let entry = EvidenceMap::deserialize(de::value::MapAccessDeserializer::new(map))?;
        let id = validate_evidence_id(&entry.id).map_err(de::Error::custom)?;
        Ok(EvidenceItem {
            id,
            document: entry.document,
        })
    }
}

fn validate_evidence_id(id: &str) -> Result<String, String> {
    let valid = !id.is_empty() && !id.chars().any(|c| c.is_whitespace() || c.is_control());
    match valid {
        true => Ok(id.to_owned()),
        false => Err(format!(
            "evidence id `{id}` is invalid: expected a non-empty id without spaces, such as risk-register"
        )),
    }
}
