"""Dependency manifests, container files, Terraform, CI workflows and notebooks."""

import base64
import json
import random

import ai_usage


def pick_dependencies(rng: random.Random, table: tuple, uses_ai: bool) -> list[str]:
    """Pick ordinary dependencies, plus AI ones when ``uses_ai``, plus sometimes a look-alike."""
    ordinary, ai, look_alikes = table
    chosen = rng.sample(ordinary, rng.randint(3, min(8, len(ordinary))))
    if uses_ai:
        chosen += rng.sample(ai, rng.randint(1, 3))
    if rng.random() < 0.15:
        chosen.append(rng.choice(look_alikes))
    return chosen


def version(rng: random.Random) -> str:
    """Return a plausible semantic version."""
    return f"{rng.randint(0, 9)}.{rng.randint(0, 30)}.{rng.randint(0, 12)}"


def requirements(rng: random.Random, uses_ai: bool) -> str:
    """Render requirements.txt."""
    lines = [f"{name}=={version(rng)}" for name in pick_dependencies(rng, ai_usage.PYPI, uses_ai)]
    return "\n".join(lines) + "\n"


def pyproject(rng: random.Random, name: str, uses_ai: bool) -> str:
    """Render a PEP 621 pyproject.toml."""
    deps = ",\n".join(
        f'    "{dep}>={version(rng)}"' for dep in pick_dependencies(rng, ai_usage.PYPI, uses_ai)
    )
    return (
        f'[project]\nname = "{name}"\nversion = "{version(rng)}"\n'
        f'description = "Internal {name.replace("-", " ")} service"\nrequires-python = ">=3.10"\n'
        f"dependencies = [\n{deps},\n]\n\n[build-system]\n"
        'requires = ["hatchling"]\nbuild-backend = "hatchling.build"\n'
    )


def package_json(rng: random.Random, name: str, uses_ai: bool, workspaces: list[str] = ()) -> str:
    """Render package.json; ``workspaces`` makes it a monorepo root."""
    deps = {dep: f"^{version(rng)}" for dep in pick_dependencies(rng, ai_usage.NPM, uses_ai)}
    document = {
        "name": name,
        "version": version(rng),
        "private": True,
        "description": f"{name.replace('-', ' ')} front end and API",
        "scripts": {"build": "tsc -p .", "test": "vitest run", "lint": "eslint ."},
        "dependencies": deps,
        "devDependencies": {"typescript": "^5.6.3", "vitest": "^2.1.4"},
    }
    if workspaces:
        document["workspaces"] = list(workspaces)
    return json.dumps(document, indent=2) + "\n"


def go_mod(rng: random.Random, name: str, uses_ai: bool) -> str:
    """Render go.mod."""
    requires = "\n".join(f"\t{dep}" for dep in pick_dependencies(rng, ai_usage.GOMOD, uses_ai))
    return f"module github.com/example/{name}\n\ngo 1.23\n\nrequire (\n{requires}\n)\n"


def pom(rng: random.Random, name: str, uses_ai: bool) -> str:
    """Render a Maven pom.xml."""
    entries = []
    for dep in pick_dependencies(rng, ai_usage.MAVEN, uses_ai):
        group, artifact = dep.split(":")
        entries.append(
            f"    <dependency>\n      <groupId>{group}</groupId>\n      <artifactId>{artifact}</artifactId>\n"
            f"      <version>{version(rng)}</version>\n    </dependency>"
        )
    body = "\n".join(entries)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<project xmlns="http://maven.apache.org/POM/4.0.0">\n'
        f"  <modelVersion>4.0.0</modelVersion>\n  <groupId>com.example</groupId>\n"
        f"  <artifactId>{name}</artifactId>\n  <version>{version(rng)}</version>\n"
        f"  <dependencies>\n{body}\n  </dependencies>\n</project>\n"
    )


def gradle_kts(rng: random.Random, uses_ai: bool) -> str:
    """Render build.gradle.kts for a Kotlin project."""
    lines = [
        f'    implementation("{dep}:{version(rng)}")'
        for dep in pick_dependencies(rng, ai_usage.MAVEN, uses_ai)
    ]
    return (
        'plugins {\n    kotlin("jvm") version "2.0.21"\n}\n\nrepositories {\n    mavenCentral()\n}\n\n'
        "dependencies {\n" + "\n".join(lines) + "\n}\n"
    )


def cargo_toml(rng: random.Random, name: str, uses_ai: bool) -> str:
    """Render Cargo.toml."""
    deps = "\n".join(
        f'{dep} = "{version(rng)}"' for dep in pick_dependencies(rng, ai_usage.CARGO, uses_ai)
    )
    return (
        f'[package]\nname = "{name}"\nversion = "{version(rng)}"\nedition = "2021"\n'
        f'description = "{name.replace("-", " ")} worker"\n\n[dependencies]\n{deps}\n'
    )


def csproj(rng: random.Random, uses_ai: bool) -> str:
    """Render an SDK-style .csproj."""
    refs = "\n".join(
        f'    <PackageReference Include="{dep}" Version="{version(rng)}" />'
        for dep in pick_dependencies(rng, ai_usage.NUGET, uses_ai)
    )
    return (
        '<Project Sdk="Microsoft.NET.Sdk.Web">\n  <PropertyGroup>\n'
        "    <TargetFramework>net8.0</TargetFramework>\n    <Nullable>enable</Nullable>\n"
        f"  </PropertyGroup>\n  <ItemGroup>\n{refs}\n  </ItemGroup>\n</Project>\n"
    )


def dockerfile(rng: random.Random, language: str, serving: bool) -> str:
    """Render a Dockerfile; ``serving`` builds on a model-serving image."""
    if serving:
        image, model = rng.choice((
            ("vllm/vllm-openai:v0.6.3", "meta-llama/Llama-3.1-8B-Instruct"),
            ("ghcr.io/huggingface/text-generation-inference:2.4.0", "mistralai/Mistral-7B-Instruct-v0.3"),
            ("nvidia/tritonserver:24.08-py3", "ensemble"),
        ))
        return f"FROM {image}\nENV MODEL_ID={model}\nEXPOSE 8000\nCMD [\"--model\", \"{model}\"]\n"
    base = {
        "python": "python:3.12-slim", "go": "golang:1.23", "rust": "rust:1.82",
        "java": "eclipse-temurin:21-jre", "kotlin": "eclipse-temurin:21-jre",
        "csharp": "mcr.microsoft.com/dotnet/aspnet:8.0",
    }.get(language, "node:20-alpine")
    return (
        f"FROM {base}\nWORKDIR /app\nCOPY . .\nRUN echo building {language}\n"
        "USER 10001\nEXPOSE 8080\nCMD [\"./start.sh\"]\n"
    )


def compose(rng: random.Random, name: str, serving: bool) -> str:
    """Render docker-compose.yml with a database, a cache and sometimes a model server."""
    text = (
        f"services:\n  {name}:\n    build: .\n    ports:\n      - \"8080:8080\"\n"
        "    depends_on: [db, cache]\n  db:\n    image: postgres:16\n"
        "    environment:\n      POSTGRES_PASSWORD: example\n  cache:\n    image: redis:7\n"
    )
    if serving:
        image = rng.choice(("ollama/ollama:0.3.12", "ghcr.io/huggingface/text-generation-inference:2.4.0"))
        text += f"  llm:\n    image: {image}\n    volumes:\n      - models:/root/.ollama\nvolumes:\n  models: {{}}\n"
    return text


def terraform(rng: random.Random, name: str, ai_service: bool) -> str:
    """Render main.tf with ordinary AWS resources and sometimes an AI service."""
    text = (
        'terraform {\n  required_providers {\n    aws = { source = "hashicorp/aws", version = "~> 5.0" }\n'
        "  }\n}\n\n"
        f'resource "aws_s3_bucket" "{name}_artifacts" {{\n  bucket = "{name}-artifacts-{rng.randint(100, 999)}"\n}}\n\n'
        f'resource "aws_iam_role" "{name}" {{\n  name               = "{name}-role"\n'
        "  assume_role_policy = data.aws_iam_policy_document.assume.json\n}\n"
    )
    if ai_service:
        text += rng.choice((
            f'\nresource "aws_sagemaker_endpoint" "{name}" {{\n  name                 = "{name}"\n'
            f"  endpoint_config_name = aws_sagemaker_endpoint_configuration.{name}.name\n}}\n",
            f'\nresource "azurerm_cognitive_account" "{name}" {{\n  name                = "{name}-openai"\n'
            '  kind                = "OpenAI"\n  sku_name            = "S0"\n'
            '  location            = "westeurope"\n  resource_group_name = var.resource_group\n}\n',
            f'\nresource "aws_bedrock_guardrail" "{name}" {{\n  name = "{name}"\n'
            '  blocked_input_messaging = "blocked"\n  blocked_outputs_messaging = "blocked"\n}\n',
        ))
    return text


def workflow(rng: random.Random, ai_action: bool) -> str:
    """Render a GitHub Actions workflow; ``ai_action`` adds an AI review step."""
    text = (
        "name: ci\non:\n  pull_request:\n  push:\n    branches: [main]\njobs:\n  test:\n"
        "    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n"
        "      - run: make test\n"
    )
    if ai_action:
        text += (
            "      - uses: anthropics/claude-code-action@v1\n        with:\n"
            "          anthropic_api_key: ${{ secrets.ANTHROPIC_API_KEY }}\n"
        )
    return text


def notebook(rng: random.Random, uses_ai: bool, image_bytes: int) -> str:
    """Render an nbformat 4 notebook with code cells and, when ``image_bytes``, a PNG output."""
    imports = "import pandas as pd\nimport numpy as np\n"
    if uses_ai:
        imports += rng.choice((
            "import torch\nfrom transformers import AutoTokenizer\n",
            "from sklearn.ensemble import RandomForestClassifier\n",
            "from openai import OpenAI\nclient = OpenAI()\n",
        ))
    outputs = [{"name": "stdout", "output_type": "stream", "text": [f"rows: {rng.randint(100, 90000)}\n"]}]
    if image_bytes:
        png = base64.b64encode(b"\x89PNG\r\n\x1a\n" + rng.randbytes(image_bytes)).decode()
        outputs.append({"output_type": "display_data", "metadata": {}, "data": {"image/png": png}})
    cells = [
        {"cell_type": "markdown", "metadata": {}, "source": ["# Exploration\n", "Load the extract and look at it.\n"]},
        {"cell_type": "code", "execution_count": 1, "metadata": {}, "outputs": [], "source": imports.splitlines(True)},
        {"cell_type": "code", "execution_count": 2, "metadata": {}, "outputs": outputs,
         "source": ["df = pd.read_parquet('extract.parquet')\n", "print('rows:', len(df))\n"]},
    ]
    document = {
        "cells": cells,
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    return json.dumps(document, indent=1) + "\n"


def model_card(base_model: str) -> str:
    """Render a Hugging Face model card with YAML front matter."""
    return (
        f"---\nlicense: apache-2.0\nbase_model: {base_model}\npipeline_tag: text-classification\n"
        "language: [en, de]\n---\n\n# Ticket router\n\nFine-tuned to route support tickets to teams.\n"
    )
