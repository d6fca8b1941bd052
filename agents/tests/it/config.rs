//! Serving containers, infrastructure as code, MCP server configurations and CI workflows.

use crate::support::{Tree, attribute, row};

#[test]
fn serving_containers_in_dockerfiles_compose_and_kubernetes() {
    let tree = Tree::new();
    tree.file("serve/Dockerfile", "# FROM ollama/ollama\nFROM vllm/vllm-openai:v0.6.3 AS server\nRUN pip install --no-cache-dir -r extra.txt flash-attn transformers==4.44 && rm -rf /root/.cache\nCMD [\"--model\", \"mistralai/Mistral-7B-Instruct-v0.3\"]\n");
    tree.file(
        "serve/docker-compose.yml",
        "services:\n  tgi:\n    image: ghcr.io/huggingface/text-generation-inference:2.2\n  local:\n    image: \"ollama/ollama:latest\"\n  web:\n    image: nginx:1.27\n",
    );
    tree.file(
        "k8s/triton.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n        - name: triton\n          image: nvcr.io/nvidia/tritonserver:24.05-py3\n        - name: ts\n          image: pytorch/torchserve:0.11.0-cpu\n",
    );
    let scan = tree.scan();
    scan.assert_rows(vec![
        row("k8s/triton.yaml", 8, "serving_container", "triton"),
        row("k8s/triton.yaml", 10, "serving_container", "torchserve"),
        row("serve/Dockerfile", 2, "serving_container", "vllm"),
        row("serve/Dockerfile", 3, "dependency", "transformers"),
        row("serve/Dockerfile", 4, "model_id", "mistral-7b-instruct"),
        row("serve/docker-compose.yml", 3, "serving_container", "tgi"),
        row("serve/docker-compose.yml", 5, "serving_container", "ollama"),
    ]);
    let vllm = scan.get("serve/Dockerfile", "serving_container", "vllm");
    assert_eq!(attribute(vllm, "image"), "vllm/vllm-openai:v0.6.3");
    assert_eq!(attribute(vllm, "category"), "serving");
}

#[test]
fn infrastructure_as_code_for_ai_services() {
    let tree = Tree::new();
    tree.file(
        "infra/main.tf",
        r#"resource "aws_sagemaker_endpoint" "scoring" {
  name = "scoring"
}

resource "azurerm_cognitive_account" "speech" {
  kind = "SpeechServices"
}

resource "azurerm_cognitive_account" "gpt" {
  name = "gpt"
  kind = "OpenAI"
}

resource "google_vertex_ai_endpoint" "chat" {}
resource "aws_bedrock_guardrail" "safety" {}
resource "aws_s3_bucket" "data" {}
resource "azurerm_machine_learning_workspace" "ml" {}
"#,
    );
    tree.file(
        "infra/stack.yaml",
        "Resources:\n  Model:\n    Type: AWS::SageMaker::Model\n  Agent:\n    Type: \"AWS::Bedrock::Agent\"\n  Bucket:\n    Type: AWS::S3::Bucket\n",
    );
    tree.file(
        "infra/openai.bicep",
        "resource account 'Microsoft.CognitiveServices/accounts@2023-05-01' = {\n  name: 'acme-openai'\n  kind: 'OpenAI'\n}\nresource ws 'Microsoft.MachineLearningServices/workspaces@2024-04-01' = {\n  name: 'ws'\n}\n",
    );
    let scan = tree.scan();
    scan.assert_rows(vec![
        row("infra/main.tf", 1, "iac_resource", "aws-sagemaker"),
        row("infra/main.tf", 5, "iac_resource", "azure-ai-services"),
        row("infra/main.tf", 9, "iac_resource", "azure-openai"),
        row("infra/main.tf", 14, "iac_resource", "google-vertex-ai"),
        row("infra/main.tf", 15, "iac_resource", "aws-bedrock"),
        row(
            "infra/main.tf",
            17,
            "iac_resource",
            "azure-machine-learning",
        ),
        row("infra/openai.bicep", 1, "iac_resource", "azure-openai"),
        row(
            "infra/openai.bicep",
            5,
            "iac_resource",
            "azure-machine-learning",
        ),
        row("infra/stack.yaml", 3, "iac_resource", "aws-sagemaker"),
        row("infra/stack.yaml", 5, "iac_resource", "aws-bedrock"),
    ]);
    let openai = scan.get("infra/main.tf", "iac_resource", "azure-openai");
    assert_eq!(
        attribute(openai, "resource_type"),
        "azurerm_cognitive_account"
    );
    assert_eq!(attribute(openai, "category"), "infrastructure");
    assert_eq!(attribute(openai, "provider"), "azure-openai");
}

#[test]
fn mcp_configurations_yield_one_finding_per_server() {
    let tree = Tree::new();
    tree.file(
        ".mcp.json",
        r#"{
  "mcpServers": {
    "github": {
      "command": "npx",
      "args": ["-y", "@modelcontextprotocol/server-github"],
      "env": { "GITHUB_PERSONAL_ACCESS_TOKEN": "ghp_not_reported" }
    },
    "docs": { "type": "http", "url": "https://bot:hunter2@mcp.example.invalid/mcp?token=abc" }
  }
}
"#,
    );
    tree.file(
        "tools/.vscode/mcp.json",
        "{\n  // VS Code allows comments here\n  \"servers\": {\n    \"fetch\": { \"command\": \"uvx\", \"args\": [\"mcp-server-fetch\"] }\n  }\n}\n",
    );
    tree.file(
        "desktop/claude_desktop_config.json",
        r#"{"mcpServers": {"files": {"command": "node", "args": ["server.js"]}}}"#,
    );
    tree.file(
        "other/settings.json",
        r#"{"mcpServers": {"ignored": {"command": "x"}}}"#,
    );
    let scan = tree.scan();
    scan.assert_rows(vec![
        row(".mcp.json", 3, "mcp_server", "github"),
        row(".mcp.json", 8, "mcp_server", "docs"),
        row(
            "desktop/claude_desktop_config.json",
            1,
            "mcp_server",
            "files",
        ),
        row("tools/.vscode/mcp.json", 4, "mcp_server", "fetch"),
    ]);
    let github = scan.get(".mcp.json", "mcp_server", "github");
    assert_eq!(
        attribute(github, "package"),
        "@modelcontextprotocol/server-github"
    );
    assert_eq!(attribute(github, "command"), "npx");
    assert_eq!(attribute(github, "transport"), "stdio");
    assert_eq!(attribute(github, "category"), "agent_tooling");
    assert!(
        !github
            .attributes
            .values()
            .any(|value| value.contains("ghp_"))
    );
    assert_eq!(
        github.evidence.as_deref(),
        Some("github (stdio): npx @modelcontextprotocol/server-github")
    );
    let docs = scan.get(".mcp.json", "mcp_server", "docs");
    assert_eq!(
        docs.evidence.as_deref(),
        Some("docs (http): https://mcp.example.invalid/mcp")
    );
    assert_eq!(attribute(docs, "url"), "https://mcp.example.invalid/mcp");
    assert_eq!(attribute(docs, "transport"), "http");
}

#[test]
fn ci_workflows_calling_ai_actions_and_apis() {
    let tree = Tree::new();
    tree.file(
        ".github/workflows/review.yml",
        r#"name: review
on: pull_request
jobs:
  review:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: anthropics/claude-code-action@v1
        with:
          anthropic_api_key: ${{ secrets.ANTHROPIC_API_KEY }}
      - name: summarise
        run: curl https://api.openai.com/v1/chat/completions -H "Authorization: Bearer $OPENAI_API_KEY"
        env:
          OPENAI_API_KEY: ${{ secrets.OPENAI_API_KEY }}
"#,
    );
    tree.file(
        ".github/workflows/build.yml",
        "on: push\njobs:\n  b:\n    steps:\n      - uses: actions/setup-node@v4\n",
    );
    let scan = tree.scan();
    scan.assert_rows(vec![
        row(
            ".github/workflows/review.yml",
            8,
            "ci_action",
            "anthropics/claude-code-action",
        ),
        row(".github/workflows/review.yml", 10, "ci_action", "anthropic"),
        row(".github/workflows/review.yml", 12, "api_endpoint", "openai"),
        row(".github/workflows/review.yml", 12, "ci_action", "openai"),
    ]);
    let action = scan.get(
        ".github/workflows/review.yml",
        "ci_action",
        "anthropics/claude-code-action",
    );
    assert_eq!(attribute(action, "provider"), "anthropic");
    assert_eq!(attribute(action, "category"), "agent_tooling");
}

#[test]
fn model_ids_in_configuration_files() {
    let tree = Tree::new();
    tree.file(
        "recipes/sft.yaml",
        "# Model arguments\nmodel_name_or_path: mistralai/Mistral-7B-v0.1\nmodel_revision: main\noutput_dir: data/out\n",
    );
    tree.file("app/settings.json", "{\n  \"base_model\": \"HuggingFaceTB/SmolLM2-360M\",\n  \"chat_model\": \"claude-haiku-4.5\"\n}\n");
    tree.file(
        "app/.env",
        "LLM_MODEL=gpt-4o-2024-08-06\nOUTPUT=local/dir\n",
    );
    let scan = tree.scan();
    scan.assert_rows(vec![
        row("app/.env", 1, "model_id", "gpt-4o"),
        row(
            "app/settings.json",
            2,
            "model_id",
            "HuggingFaceTB/SmolLM2-360M",
        ),
        row("app/settings.json", 3, "model_id", "claude-haiku-4-5"),
        row("recipes/sft.yaml", 2, "model_id", "mistral-7b"),
        row(
            "recipes/sft.yaml",
            2,
            "model_id",
            "mistralai/Mistral-7B-v0.1",
        ),
    ]);
    let repo = scan.get("recipes/sft.yaml", "model_id", "mistralai/Mistral-7B-v0.1");
    assert_eq!(attribute(repo, "provider"), "mistral");
    assert_eq!(attribute(repo, "gpai"), "true");
}
