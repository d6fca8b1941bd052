//! Environment variable names and layer names that show which AI provider or library a
//! Lambda function uses.

/// Provider or library that one variable name or layer shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Signal {
    /// Provider or library slug, e.g. `openai`, `langchain`.
    pub(crate) provider: &'static str,
    /// `hosted_api` for a hosted model API, `ml_library` for a framework.
    pub(crate) category: &'static str,
    /// Whether the provider serves general-purpose models.
    pub(crate) gpai: bool,
}

const fn hosted(provider: &'static str, gpai: bool) -> Signal {
    Signal {
        provider,
        category: "hosted_api",
        gpai,
    }
}

const fn library(provider: &'static str) -> Signal {
    Signal {
        provider,
        category: "ml_library",
        gpai: false,
    }
}

/// Variable name prefixes, matched against the upper-cased name. Longer prefixes that
/// share a start (`AZURE_OPENAI`) come before shorter ones.
const ENV_PREFIXES: &[(&str, Signal)] = &[
    ("AZURE_OPENAI", hosted("azure-openai", true)),
    ("OPENAI_", hosted("openai", true)),
    ("ANTHROPIC_", hosted("anthropic", true)),
    ("CLAUDE_API", hosted("anthropic", true)),
    ("BEDROCK_", hosted("aws-bedrock", true)),
    ("AWS_BEDROCK", hosted("aws-bedrock", true)),
    ("HUGGINGFACE", hosted("huggingface", false)),
    ("HUGGING_FACE", hosted("huggingface", false)),
    ("HF_TOKEN", hosted("huggingface", false)),
    ("HF_API", hosted("huggingface", false)),
    ("HF_HUB", hosted("huggingface", false)),
    ("COHERE_", hosted("cohere", true)),
    ("CO_API_KEY", hosted("cohere", true)),
    ("MISTRAL_", hosted("mistral", true)),
    ("GEMINI_", hosted("google", true)),
    ("GOOGLE_GENAI", hosted("google", true)),
    ("GOOGLE_AI_", hosted("google", true)),
    ("VERTEX_AI", hosted("google", true)),
    ("VERTEXAI", hosted("google", true)),
    ("GROQ_", hosted("groq", true)),
    ("TOGETHER_API", hosted("together", true)),
    ("REPLICATE_API", hosted("replicate", false)),
    ("DEEPSEEK_", hosted("deepseek", true)),
    ("XAI_API", hosted("xai", true)),
    ("PERPLEXITY", hosted("perplexity", true)),
    ("FIREWORKS_API", hosted("fireworks", true)),
    ("SAGEMAKER_ENDPOINT", hosted("aws-sagemaker", false)),
    ("LANGCHAIN_", library("langchain")),
    ("LANGSMITH_", library("langchain")),
    ("PINECONE_", library("pinecone")),
];

/// Layer name fragments, matched against the lower-cased layer name. `azure` with
/// `openai` is checked before `openai` alone.
const LAYER_FRAGMENTS: &[(&str, Signal)] = &[
    ("openai", hosted("openai", true)),
    ("anthropic", hosted("anthropic", true)),
    ("bedrock", hosted("aws-bedrock", true)),
    ("cohere", hosted("cohere", true)),
    ("mistral", hosted("mistral", true)),
    ("gemini", hosted("google", true)),
    ("google-genai", hosted("google", true)),
    ("langchain", library("langchain")),
    ("llama-index", library("llamaindex")),
    ("llama_index", library("llamaindex")),
    ("llamaindex", library("llamaindex")),
    ("transformers", library("huggingface")),
    ("huggingface", library("huggingface")),
    ("pytorch", library("pytorch")),
    ("torch", library("pytorch")),
    ("tensorflow", library("tensorflow")),
    ("sklearn", library("scikit-learn")),
    ("scikit", library("scikit-learn")),
    ("onnx", library("onnx")),
    ("tiktoken", library("openai")),
];

/// Returns what a variable name shows, if anything. The value is never needed.
pub(crate) fn env_signal(name: &str) -> Option<Signal> {
    let upper = name.to_ascii_uppercase();
    ENV_PREFIXES
        .iter()
        .find(|(prefix, _)| upper.starts_with(prefix))
        .map(|(_, signal)| *signal)
}

/// Returns what a layer version ARN (`arn:aws:lambda:<region>:<account>:layer:<name>:<version>`)
/// shows, judged by the layer name.
pub(crate) fn layer_signal(arn: &str) -> Option<Signal> {
    let name = arn.split(':').nth(6).unwrap_or(arn).to_ascii_lowercase();
    if name.contains("azure") && name.contains("openai") {
        return Some(hosted("azure-openai", true));
    }
    LAYER_FRAGMENTS
        .iter()
        .find(|(fragment, _)| name.contains(fragment))
        .map(|(_, signal)| *signal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_key_names_map_to_providers() {
        let cases = [
            ("OPENAI_API_KEY", "openai"),
            ("AZURE_OPENAI_ENDPOINT", "azure-openai"),
            ("anthropic_api_key", "anthropic"),
            ("BEDROCK_MODEL_ID", "aws-bedrock"),
            ("HUGGINGFACEHUB_API_TOKEN", "huggingface"),
            ("HF_TOKEN", "huggingface"),
            ("GEMINI_API_KEY", "google"),
            ("LANGCHAIN_TRACING_V2", "langchain"),
        ];
        for (name, provider) in cases {
            assert_eq!(
                env_signal(name).map(|s| s.provider),
                Some(provider),
                "{name}"
            );
        }
    }

    #[test]
    fn unrelated_names_show_nothing() {
        for name in ["DATABASE_URL", "AWS_REGION", "LOG_LEVEL", "HFX", "OPENAIR"] {
            assert_eq!(env_signal(name), None, "{name}");
        }
    }

    #[test]
    fn layer_names_map_to_libraries() {
        let cases = [
            (
                "arn:aws:lambda:eu-west-1:123456789012:layer:langchain-py312:4",
                "langchain",
            ),
            (
                "arn:aws:lambda:eu-west-1:123456789012:layer:openai:1",
                "openai",
            ),
            (
                "arn:aws:lambda:eu-west-1:123456789012:layer:azure-openai-sdk:2",
                "azure-openai",
            ),
            (
                "arn:aws:lambda:eu-west-1:123456789012:layer:hf-transformers:7",
                "huggingface",
            ),
        ];
        for (arn, provider) in cases {
            assert_eq!(
                layer_signal(arn).map(|s| s.provider),
                Some(provider),
                "{arn}"
            );
        }
    }

    #[test]
    fn account_id_in_layer_arn_is_ignored() {
        // Only the layer name counts, not the account or region parts of the ARN.
        let arn = "arn:aws:lambda:eu-west-1:123456789012:layer:pandas:3";

        assert_eq!(layer_signal(arn), None);
    }
}
