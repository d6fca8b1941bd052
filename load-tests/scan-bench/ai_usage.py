"""AI-using snippets for the benchmark tree: SDK imports, client construction, model ids.

Each language maps to a list of ``(imports, body)`` pairs. The generator puts ``imports``
after a file's ordinary imports and ``body`` among its ordinary code blocks, so a file
that uses an AI library still looks like the rest of the project.
"""

PYTHON = (
    (
        "from openai import OpenAI\n",
        '''

def summarize_ticket(text: str) -> str:
    client = OpenAI()
    response = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": f"Summarize: {text}"}],
    )
    return response.choices[0].message.content
''',
    ),
    (
        "import anthropic\n",
        '''

def draft_reply(question: str) -> str:
    client = anthropic.Anthropic()
    message = client.messages.create(
        model="claude-3-5-sonnet-20241022",
        max_tokens=512,
        messages=[{"role": "user", "content": question}],
    )
    return message.content[0].text
''',
    ),
    (
        "import torch\nfrom transformers import AutoModelForCausalLM, AutoTokenizer\n",
        '''

def load_generator(device: str = "cpu"):
    name = "meta-llama/Llama-3.1-8B-Instruct"
    tokenizer = AutoTokenizer.from_pretrained(name)
    model = AutoModelForCausalLM.from_pretrained(name, torch_dtype=torch.bfloat16)
    return tokenizer, model.to(device)
''',
    ),
    (
        "from langchain_openai import ChatOpenAI\nfrom langchain_core.prompts import ChatPromptTemplate\n",
        '''

def build_chain():
    prompt = ChatPromptTemplate.from_messages([("system", "You classify support tickets."), ("user", "{ticket}")])
    llm = ChatOpenAI(model="gpt-4o", temperature=0)
    return prompt | llm
''',
    ),
    (
        "import json\n\nimport boto3\n",
        '''

def invoke_bedrock(prompt: str) -> str:
    runtime = boto3.client("bedrock-runtime", region_name="eu-central-1")
    body = json.dumps({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 400,
                       "messages": [{"role": "user", "content": prompt}]})
    response = runtime.invoke_model(modelId="anthropic.claude-3-5-sonnet-20240620-v1:0", body=body)
    return json.loads(response["body"].read())["content"][0]["text"]
''',
    ),
    (
        "import torch\nfrom torch import nn\nfrom sklearn.model_selection import train_test_split\n",
        '''

class ChurnModel(nn.Module):
    def __init__(self, features: int):
        super().__init__()
        self.layers = nn.Sequential(nn.Linear(features, 64), nn.ReLU(), nn.Linear(64, 1))

    def forward(self, x):
        return torch.sigmoid(self.layers(x))
''',
    ),
)

JAVASCRIPT = (
    (
        'import OpenAI from "openai";\n',
        '''

const openai = new OpenAI({ apiKey: process.env.OPENAI_API_KEY });

export async function classify(text) {
  const completion = await openai.chat.completions.create({
    model: "gpt-4o-mini",
    messages: [{ role: "user", content: text }],
  });
  return completion.choices[0].message.content;
}
''',
    ),
    (
        'import Anthropic from "@anthropic-ai/sdk";\n',
        '''

const anthropic = new Anthropic();

export async function answer(question) {
  const msg = await anthropic.messages.create({
    model: "claude-3-5-haiku-20241022",
    max_tokens: 256,
    messages: [{ role: "user", content: question }],
  });
  return msg.content[0].text;
}
''',
    ),
    (
        'import { BedrockRuntimeClient, InvokeModelCommand } from "@aws-sdk/client-bedrock-runtime";\n',
        '''

const bedrock = new BedrockRuntimeClient({ region: "us-east-1" });

export async function embed(text) {
  const command = new InvokeModelCommand({
    modelId: "amazon.titan-embed-text-v2:0",
    body: JSON.stringify({ inputText: text }),
  });
  return bedrock.send(command);
}
''',
    ),
    (
        'import { ChatOpenAI } from "@langchain/openai";\n',
        '''

export const model = new ChatOpenAI({ model: "gpt-4.1-mini", temperature: 0.2 });
''',
    ),
)

GO = (
    (
        '\t"github.com/openai/openai-go"\n',
        '''

func summarize(ctx context.Context, text string) (string, error) {
	client := openai.NewClient()
	resp, err := client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
		Model:    "gpt-4o",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage(text)},
	})
	if err != nil {
		return "", err
	}
	return resp.Choices[0].Message.Content, nil
}
''',
    ),
    (
        '\t"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"\n',
        '''

func newBedrock(cfg aws.Config) *bedrockruntime.Client {
	return bedrockruntime.NewFromConfig(cfg)
}
''',
    ),
    (
        '\t"github.com/anthropics/anthropic-sdk-go"\n',
        '''

func ask(ctx context.Context, q string) (*anthropic.Message, error) {
	client := anthropic.NewClient()
	return client.Messages.New(ctx, anthropic.MessageNewParams{
		Model:     "claude-sonnet-4-5",
		MaxTokens: 1024,
		Messages:  []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock(q))},
	})
}
''',
    ),
)

JAVA = (
    (
        "import com.openai.client.OpenAIClient;\nimport com.openai.client.okhttp.OpenAIOkHttpClient;\n",
        '''

    private final OpenAIClient openai = OpenAIOkHttpClient.fromEnv();

    public String summarize(String text) {
        var params = ChatCompletionCreateParams.builder().model("gpt-4o").addUserMessage(text).build();
        return openai.chat().completions().create(params).choices().get(0).message().content().orElse("");
    }
''',
    ),
    (
        "import software.amazon.awssdk.services.bedrockruntime.BedrockRuntimeClient;\n",
        '''

    private final BedrockRuntimeClient bedrock = BedrockRuntimeClient.builder().build();

    public String converse(String prompt) {
        return bedrock.converse(r -> r.modelId("anthropic.claude-3-5-sonnet-20240620-v1:0")
            .messages(m -> m.role("user").content(c -> c.text(prompt)))).output().message().toString();
    }
''',
    ),
    (
        "import dev.langchain4j.model.openai.OpenAiChatModel;\n",
        '''

    private final OpenAiChatModel model = OpenAiChatModel.builder()
        .apiKey(System.getenv("OPENAI_API_KEY"))
        .modelName("gpt-4o-mini")
        .build();
''',
    ),
)

KOTLIN = (
    (
        "import com.anthropic.client.okhttp.AnthropicOkHttpClient\nimport com.anthropic.models.messages.MessageCreateParams\n",
        '''

private val anthropic = AnthropicOkHttpClient.fromEnv()

fun reply(question: String): String {
    val params = MessageCreateParams.builder()
        .model("claude-3-7-sonnet-latest")
        .maxTokens(512)
        .addUserMessage(question)
        .build()
    return anthropic.messages().create(params).content().first().text().toString()
}
''',
    ),
    (
        "import com.openai.client.okhttp.OpenAIOkHttpClient\n",
        '''

private val openai = OpenAIOkHttpClient.fromEnv()
private const val MODEL = "gpt-4o-mini"
''',
    ),
)

RUST = (
    (
        "use async_openai::{types::CreateChatCompletionRequestArgs, Client};\n",
        '''

pub async fn summarize(text: &str) -> anyhow::Result<String> {
    let client = async_openai::Client::new();
    let request = CreateChatCompletionRequestArgs::default()
        .model("gpt-4o-mini")
        .messages([text.into()])
        .build()?;
    let response = client.chat().create(request).await?;
    Ok(response.choices[0].message.content.clone().unwrap_or_default())
}
''',
    ),
    (
        "use candle_core::{Device, Tensor};\n",
        '''

pub fn zeros(rows: usize, cols: usize) -> candle_core::Result<Tensor> {
    Tensor::zeros((rows, cols), candle_core::DType::F32, &Device::Cpu)
}
''',
    ),
)

CSHARP = (
    (
        "using OpenAI.Chat;\n",
        '''

    private readonly ChatClient _chat = new ChatClient(model: "gpt-4o", apiKey: Environment.GetEnvironmentVariable("OPENAI_API_KEY"));

    public async Task<string> SummarizeAsync(string text)
    {
        ChatCompletion completion = await _chat.CompleteChatAsync(text);
        return completion.Content[0].Text;
    }
''',
    ),
    (
        "using Azure.AI.OpenAI;\nusing Azure.Identity;\n",
        '''

    private readonly AzureOpenAIClient _azure = new AzureOpenAIClient(
        new Uri("https://contoso-prod.openai.azure.com/"), new DefaultAzureCredential());
''',
    ),
    (
        "using Microsoft.ML;\n",
        '''

    private readonly MLContext _ml = new MLContext(seed: 7);
''',
    ),
)

SNIPPETS = {
    "python": PYTHON,
    "javascript": JAVASCRIPT,
    "typescript": JAVASCRIPT,
    "go": GO,
    "java": JAVA,
    "kotlin": KOTLIN,
    "rust": RUST,
    "csharp": CSHARP,
}

# Dependencies per ecosystem: (ordinary, AI, look-alikes that must not match an AI package).
PYPI = (
    ("requests", "fastapi", "pydantic", "sqlalchemy", "uvicorn", "click", "numpy", "pandas",
     "boto3", "redis", "celery", "httpx", "pytest", "structlog", "jinja2", "alembic"),
    ("openai", "anthropic", "transformers", "torch", "langchain", "langchain-openai",
     "scikit-learn", "sentence-transformers", "huggingface-hub", "datasets", "accelerate"),
    ("openapi-spec-validator", "openapi-core", "torchmetrics-lite", "anthropic-bedrock-shim"),
)
NPM = (
    ("express", "react", "react-dom", "lodash", "axios", "zod", "pino", "dayjs", "pg",
     "typescript", "vitest", "eslint", "next", "uuid"),
    ("openai", "@anthropic-ai/sdk", "@aws-sdk/client-bedrock-runtime", "langchain",
     "@langchain/openai", "ai", "@huggingface/inference"),
    ("openapi-types", "openapi3-ts", "ai-lint-rules", "@types/openai-shim"),
)
GOMOD = (
    ("github.com/go-chi/chi/v5 v5.1.0", "github.com/jackc/pgx/v5 v5.7.1",
     "github.com/rs/zerolog v1.33.0", "github.com/spf13/cobra v1.8.1",
     "golang.org/x/sync v0.8.0", "github.com/stretchr/testify v1.9.0"),
    ("github.com/openai/openai-go v0.1.0-alpha.40", "github.com/anthropics/anthropic-sdk-go v1.4.0",
     "github.com/aws/aws-sdk-go-v2/service/bedrockruntime v1.20.3"),
    ("github.com/getkin/kin-openapi v0.128.0",),
)
MAVEN = (
    ("org.springframework.boot:spring-boot-starter-web", "com.fasterxml.jackson.core:jackson-databind",
     "org.postgresql:postgresql", "org.junit.jupiter:junit-jupiter", "org.slf4j:slf4j-api"),
    ("com.openai:openai-java", "software.amazon.awssdk:bedrockruntime", "dev.langchain4j:langchain4j",
     "com.anthropic:anthropic-java"),
    ("org.openapitools:openapi-generator",),
)
CARGO = (
    ("serde", "serde_json", "tokio", "anyhow", "thiserror", "clap", "tracing", "reqwest", "axum"),
    ("async-openai", "candle-core", "tch", "ort"),
    ("openapiv3", "aide"),
)
NUGET = (
    ("Newtonsoft.Json", "Serilog", "Dapper", "Npgsql", "Microsoft.Extensions.Hosting",
     "xunit", "FluentValidation"),
    ("OpenAI", "Azure.AI.OpenAI", "Microsoft.SemanticKernel", "Microsoft.ML"),
    ("Microsoft.OpenApi", "Swashbuckle.AspNetCore"),
)

README_AI_PROSE = (
    "Unlike tools that send your data to OpenAI or Anthropic, this service runs entirely on "
    "your own servers. We compared it with GPT-4o and Claude 3.5 Sonnet summaries during "
    "the design review, and kept the rule-based approach.",
    "The roadmap mentions an optional assistant built on LangChain and Hugging Face "
    "transformers, but nothing in this repository calls a language model today.",
    "Questions about machine learning, PyTorch or TensorFlow belong in the data team's "
    "channel; this service only moves files between buckets.",
)
