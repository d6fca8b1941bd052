//! Value types of a `secruna.yaml` declaration: roles, Article 5 practices, markets, evidence
//! and the other closed vocabularies, each with the spelling the file uses.

use std::fmt;
use std::str::FromStr;

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

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
