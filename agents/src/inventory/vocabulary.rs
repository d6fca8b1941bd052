//! The closed value lists of the `use category`, `data categories` and yes/no columns.

use std::fmt;

/// Kind of use of a bought AI tool, from the `use category` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum UseCategory {
    /// Property or asset valuation models.
    Valuation,
    /// GIS, mapping and geospatial analysis.
    Gis,
    /// Drafting of reports, letters and other documents.
    Drafting,
    /// A conversational assistant, for staff or for clients.
    Chatbot,
    /// Speech to text and meeting notes.
    Transcription,
    /// Analysis of photos, drone or satellite imagery and scanned plans.
    ImageAnalysis,
    /// Search, research and summarisation.
    Research,
    /// Code completion and generation.
    CodeAssistant,
    /// Forecasting, dashboards and other analytics.
    Analytics,
    /// Screening, ranking or assessing job applicants or staff.
    Recruitment,
    /// Any other use; describe it in the `purpose` column.
    Other,
}

impl UseCategory {
    /// Every use category, in documentation order.
    pub const ALL: [UseCategory; 11] = [
        UseCategory::Valuation,
        UseCategory::Gis,
        UseCategory::Drafting,
        UseCategory::Chatbot,
        UseCategory::Transcription,
        UseCategory::ImageAnalysis,
        UseCategory::Research,
        UseCategory::CodeAssistant,
        UseCategory::Analytics,
        UseCategory::Recruitment,
        UseCategory::Other,
    ];

    /// Returns the value written in the file and in the `use_category` attribute.
    pub fn as_str(self) -> &'static str {
        match self {
            UseCategory::Valuation => "valuation",
            UseCategory::Gis => "gis",
            UseCategory::Drafting => "drafting",
            UseCategory::Chatbot => "chatbot",
            UseCategory::Transcription => "transcription",
            UseCategory::ImageAnalysis => "image_analysis",
            UseCategory::Research => "research",
            UseCategory::CodeAssistant => "code_assistant",
            UseCategory::Analytics => "analytics",
            UseCategory::Recruitment => "recruitment",
            UseCategory::Other => "other",
        }
    }

    /// Other spellings accepted for the category, already in [`value_key`] form.
    fn aliases(self) -> &'static [&'static str] {
        match self {
            UseCategory::Valuation => &["valuation model", "valuations", "avm"],
            UseCategory::Gis => &["mapping", "geospatial", "gis mapping"],
            UseCategory::Drafting => &["report drafting", "document drafting", "writing"],
            UseCategory::Chatbot => &["chat", "assistant", "virtual assistant"],
            UseCategory::Transcription => &["speech to text", "meeting notes"],
            UseCategory::ImageAnalysis => &["imagery", "image recognition"],
            UseCategory::Research => &["search", "summarisation", "summarization"],
            UseCategory::CodeAssistant => &["coding", "code generation"],
            UseCategory::Analytics => &["forecasting"],
            UseCategory::Recruitment => &["hiring", "cv screening"],
            UseCategory::Other => &[],
        }
    }

    /// Reads a cell, ignoring case, `_`/`-`/space differences and the listed aliases.
    pub fn parse(cell: &str) -> Option<UseCategory> {
        let key = value_key(cell);
        UseCategory::ALL.into_iter().find(|category| {
            value_key(category.as_str()) == key || category.aliases().contains(&key.as_str())
        })
    }
}

impl fmt::Display for UseCategory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Kind of data a bought AI tool receives, from the `data categories` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DataCategory {
    /// No business or personal data; valid only alone.
    None,
    /// Published information.
    Public,
    /// Internal business documents.
    Internal,
    /// Client documents and instructions.
    ClientConfidential,
    /// Personal data about identifiable people (GDPR Art 4(1)).
    Personal,
    /// Special categories of personal data such as health or ethnicity (GDPR Art 9(1)).
    SpecialCategory,
    /// Prices, valuations, accounts.
    Financial,
    /// Property records, plans and survey results.
    Property,
    /// Locations, coordinates and map layers.
    Geospatial,
    /// Photos, drone and satellite images.
    Imagery,
}

impl DataCategory {
    /// Every data category, in documentation order.
    pub const ALL: [DataCategory; 10] = [
        DataCategory::None,
        DataCategory::Public,
        DataCategory::Internal,
        DataCategory::ClientConfidential,
        DataCategory::Personal,
        DataCategory::SpecialCategory,
        DataCategory::Financial,
        DataCategory::Property,
        DataCategory::Geospatial,
        DataCategory::Imagery,
    ];

    /// Returns the value written in the file and in the `data_categories` attribute.
    pub fn as_str(self) -> &'static str {
        match self {
            DataCategory::None => "none",
            DataCategory::Public => "public",
            DataCategory::Internal => "internal",
            DataCategory::ClientConfidential => "client_confidential",
            DataCategory::Personal => "personal",
            DataCategory::SpecialCategory => "special_category",
            DataCategory::Financial => "financial",
            DataCategory::Property => "property",
            DataCategory::Geospatial => "geospatial",
            DataCategory::Imagery => "imagery",
        }
    }

    /// Tells whether the category is personal data.
    pub fn is_personal(self) -> bool {
        matches!(self, DataCategory::Personal | DataCategory::SpecialCategory)
    }

    /// Reads one list item, ignoring case and `_`/`-`/space differences.
    pub fn parse(item: &str) -> Option<DataCategory> {
        let key = value_key(item);
        let key = match key.as_str() {
            "personal data" => "personal",
            "special category data" | "special categories" => "special category",
            "confidential" | "client data" => "client confidential",
            other => other,
        };
        DataCategory::ALL
            .into_iter()
            .find(|category| value_key(category.as_str()) == key)
    }
}

impl fmt::Display for DataCategory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Reads a yes/no cell: `yes`, `y`, `true`, `1` or `no`, `n`, `false`, `0`, in any case.
pub(crate) fn parse_yes_no(cell: &str) -> Option<bool> {
    match cell.trim().to_lowercase().as_str() {
        "yes" | "y" | "true" | "1" => Some(true),
        "no" | "n" | "false" | "0" => Some(false),
        _ => None,
    }
}

/// Lower-cases a value, reads `_` and `-` as spaces and collapses white space.
fn value_key(text: &str) -> String {
    let spaced: String = text
        .chars()
        .map(|character| match character {
            '_' | '-' => ' ',
            other => other,
        })
        .collect();
    super::normalise(&spaced)
}

/// Returns the values of a list as `a, b, c` for error messages.
pub(crate) fn listing<T: fmt::Display>(values: &[T]) -> String {
    let names: Vec<String> = values.iter().map(ToString::to_string).collect();
    names.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn use_category_reads_spellings_and_aliases() {
        assert_eq!(
            UseCategory::parse("Image-Analysis"),
            Some(UseCategory::ImageAnalysis)
        );
        assert_eq!(
            UseCategory::parse(" report drafting "),
            Some(UseCategory::Drafting)
        );
        assert_eq!(UseCategory::parse("GIS"), Some(UseCategory::Gis));
        assert_eq!(UseCategory::parse("surveying"), None);
    }

    #[test]
    fn every_value_reads_back() {
        for category in UseCategory::ALL {
            assert_eq!(UseCategory::parse(category.as_str()), Some(category));
        }
        for category in DataCategory::ALL {
            assert_eq!(DataCategory::parse(category.as_str()), Some(category));
        }
    }

    #[test]
    fn yes_no_reads_common_spellings() {
        assert_eq!(parse_yes_no("YES"), Some(true));
        assert_eq!(parse_yes_no("n"), Some(false));
        assert_eq!(parse_yes_no("TRUE"), Some(true));
        assert_eq!(parse_yes_no("maybe"), None);
        assert_eq!(parse_yes_no(""), None);
    }
}
