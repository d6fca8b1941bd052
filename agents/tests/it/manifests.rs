//! Dependency manifests of every ecosystem, with exact package-name matching.

use crate::support::{Tree, attribute, row};

#[test]
fn python_manifests() {
    let tree = Tree::new();
    tree.file(
        "py/requirements-dev.txt",
        "# tools\n-r requirements.txt\nOpenAI>=1.30  # client\nopenapi-types==1.0\ntorch ; python_version > '3.8'\n--extra-index-url https://example.invalid/simple\n",
    );
    tree.file(
        "py/pyproject.toml",
        r#"[project]
name = "triage"
description = "Routes support tickets"
dependencies = ["anthropic>=0.30", "requests"]

[project.optional-dependencies]
ml = ["scikit_learn"]

[dependency-groups]
dev = ["langchain-core"]

[tool.poetry.dependencies]
python = "^3.11"
transformers = "^4.40"

[tool.poetry.group.train.dependencies]
peft = "*"

[tool.uv]
dev-dependencies = ["litellm>=1.40"]

[tool.pdm.dev-dependencies]
eval = ["cohere>=5"]
"#,
    );
    tree.file(
        "pipenv/Pipfile",
        "[packages]\ncohere = \"*\"\n\n[dev-packages]\npytest = \"*\"\n",
    );
    tree.file(
        "cfg/setup.cfg",
        "[metadata]\ndescription = Scores leads\n\n[options]\ninstall_requires =\n    mistralai>=1\n    numpy\n\n[options.extras_require]\nserve =\n    vllm\n",
    );
    tree.file(
        "legacy/setup.py",
        "from setuptools import setup\nsetup(\n    name='legacy',\n    description='Old tool',\n    install_requires=[\n        'google-generativeai',\n        'flask',\n    ],\n    extras_require={'hf': ['huggingface_hub']},\n)\n",
    );
    tree.file(
        "conda/environment.yml",
        "name: research\ndependencies:\n  - python=3.11\n  - pytorch::pytorch=2.3\n  - pip\n  - pip:\n      - llama-index==0.10\n",
    );
    let scan = tree.scan();
    scan.assert_rows(vec![
        row("cfg/setup.cfg", 6, "dependency", "mistral"),
        row("cfg/setup.cfg", 11, "dependency", "vllm"),
        row("conda/environment.yml", 4, "dependency", "pytorch"),
        row("conda/environment.yml", 7, "dependency", "llama-index"),
        row("legacy/setup.py", 6, "dependency", "google-gemini"),
        row("legacy/setup.py", 9, "dependency", "huggingface-hub"),
        row("pipenv/Pipfile", 2, "dependency", "cohere"),
        row("py/pyproject.toml", 4, "dependency", "anthropic"),
        row("py/pyproject.toml", 7, "dependency", "scikit-learn"),
        row("py/pyproject.toml", 10, "dependency", "langchain"),
        row("py/pyproject.toml", 14, "dependency", "transformers"),
        row("py/pyproject.toml", 17, "dependency", "huggingface-trainer"),
        row("py/pyproject.toml", 20, "dependency", "litellm"),
        row("py/pyproject.toml", 23, "dependency", "cohere"),
        row("py/requirements-dev.txt", 3, "dependency", "openai"),
        row("py/requirements-dev.txt", 5, "dependency", "pytorch"),
    ]);
}

#[test]
fn javascript_rust_and_go_manifests() {
    let tree = Tree::new();
    tree.file(
        "web/package.json",
        r#"{
  "name": "chat-web",
  "description": "Customer chat widget",
  "dependencies": { "openai": "^4.0.0", "openapi-types": "^12.0.0", "@anthropic-ai/sdk": "^0.20.0" },
  "devDependencies": { "@langchain/core": "^0.2.0" },
  "peerDependencies": { "ai": "^3.0.0" }
}
"#,
    );
    tree.file(
        "rs/Cargo.toml",
        r#"[package]
name = "ranker"
description = "Ranks job applicants"

[dependencies]
serde = "1"
llm = { package = "async-openai", version = "0.23" }

[target.'cfg(unix)'.dependencies]
candle-core = "0.6"
"#,
    );
    tree.file(
        "go/go.mod",
        "module example.com/bot\n\ngo 1.22\n\nrequire github.com/sashabaranov/go-openai v1.20.0\n\nrequire (\n\tgithub.com/anthropics/anthropic-sdk-go v0.2.0 // indirect\n\tgithub.com/sashabaranov/go-openai-extras v0.1.0\n)\n",
    );
    let scan = tree.scan();
    scan.assert_rows(vec![
        row("go/go.mod", 5, "dependency", "openai"),
        row("go/go.mod", 8, "dependency", "anthropic"),
        row("rs/Cargo.toml", 7, "dependency", "openai"),
        row("rs/Cargo.toml", 10, "dependency", "candle"),
        row("web/package.json", 4, "dependency", "anthropic"),
        row("web/package.json", 4, "dependency", "openai"),
        row("web/package.json", 5, "dependency", "langchain"),
        row("web/package.json", 6, "dependency", "vercel-ai-sdk"),
    ]);

    let openai = scan.get("web/package.json", "dependency", "openai");
    assert_eq!(attribute(openai, "ecosystem"), "npm");
    assert_eq!(
        attribute(openai, "project_description"),
        "Customer chat widget"
    );
    assert_eq!(openai.project_root, "web");
    let renamed = scan.get("rs/Cargo.toml", "dependency", "openai");
    assert_eq!(attribute(renamed, "package"), "async-openai");
    assert_eq!(
        attribute(renamed, "project_description"),
        "Ranks job applicants"
    );
}

#[test]
fn jvm_and_dotnet_manifests() {
    let tree = Tree::new();
    tree.file(
        "java/pom.xml",
        r#"<project>
  <description>Claims triage</description>
  <dependencies>
    <dependency>
      <groupId>com.openai</groupId>
      <artifactId>openai-java</artifactId>
      <version>0.8.0</version>
    </dependency>
    <dependency>
      <groupId>com.openai</groupId>
      <artifactId>openai-java-mock</artifactId>
    </dependency>
  </dependencies>
</project>
"#,
    );
    tree.file(
        "kt/build.gradle.kts",
        "dependencies {\n    implementation(\"dev.langchain4j:langchain4j:0.31.0\")\n    implementation(group = \"ai.djl\", name = \"api\", version = \"0.28.0\")\n}\n",
    );
    tree.file(
        "net/Bot.csproj",
        "<Project Sdk=\"Microsoft.NET.Sdk\">\n  <ItemGroup>\n    <PackageReference Include=\"azure.ai.openai\" Version=\"2.0.0\" />\n    <PackageReference Include=\"Microsoft.SemanticKernel\" Version=\"1.0.0\" />\n    <PackageReference Include=\"OpenAI.Extensions\" Version=\"1.0.0\" />\n  </ItemGroup>\n</Project>\n",
    );
    let scan = tree.scan();
    scan.assert_rows(vec![
        row("java/pom.xml", 6, "dependency", "openai"),
        row("kt/build.gradle.kts", 2, "dependency", "langchain"),
        row("kt/build.gradle.kts", 3, "dependency", "djl"),
        row("net/Bot.csproj", 3, "dependency", "azure-openai"),
        row("net/Bot.csproj", 4, "dependency", "semantic-kernel"),
    ]);
}

#[test]
fn setup_py_lists_and_provider_integration_packages() {
    let tree = Tree::new();
    tree.file(
        "train/setup.py",
        "# Pin fast-moving packages such as transformers exactly.\n_deps = [\n    \"transformers>=4.53\",\n    \"numpy\",\n]\nsetup(name=\"train\", install_requires=[d for d in _deps])\n",
    );
    tree.file(
        "agent/pyproject.toml",
        "[project]\nname = \"agent\"\ndependencies = [\n    \"langchain>=1\",\n    \"langchain-openai>=0.3\",\n    \"langchain-anthropic\",\n    \"langchain-openai-tools\",\n]\n",
    );
    let scan = tree.scan();
    scan.assert_rows(vec![
        row("agent/pyproject.toml", 4, "dependency", "langchain"),
        row("agent/pyproject.toml", 5, "dependency", "openai"),
        row("agent/pyproject.toml", 6, "dependency", "anthropic"),
        row("train/setup.py", 3, "dependency", "transformers"),
    ]);
    let openai = scan.get("agent/pyproject.toml", "dependency", "openai");
    assert_eq!(attribute(openai, "package"), "langchain-openai");
    assert_eq!(attribute(openai, "category"), "hosted_api");
}

#[test]
fn spring_ai_starters_count_as_their_provider() {
    let tree = Tree::new();
    tree.file(
        "svc/build.gradle",
        "dependencies {\n    implementation 'org.springframework.ai:spring-ai-starter-model-openai'\n    implementation 'org.springframework.ai:spring-ai-client-chat:1.0.0'\n    implementation 'org.springframework.boot:spring-boot-starter-web'\n}\n",
    );
    tree.file(
        "svc/src/main/java/com/acme/Chat.java",
        "package com.acme;\n\nimport org.springframework.ai.chat.client.ChatClient;\nimport org.springframework.ai.openai.OpenAiChatModel;\n",
    );
    let scan = tree.scan();
    scan.assert_rows(vec![
        row("svc/build.gradle", 2, "dependency", "openai"),
        row("svc/build.gradle", 3, "dependency", "spring-ai"),
        row(
            "svc/src/main/java/com/acme/Chat.java",
            3,
            "import",
            "spring-ai",
        ),
        row(
            "svc/src/main/java/com/acme/Chat.java",
            4,
            "import",
            "openai",
        ),
    ]);
}
