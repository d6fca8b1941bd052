//! Imports, client construction, endpoint hosts and model ids in each language.

use crate::support::{Tree, attribute, row};

const PYTHON: &str = r#"import os
import openai
from anthropic import Anthropic
import torch.nn as nn, numpy as np
from transformers import AutoModel
# import cohere
client = openai.OpenAI()
claude = Anthropic(api_key=os.environ["ANTHROPIC_API_KEY"])
model = AutoModel.from_pretrained("meta-llama/Llama-3.1-8B-Instruct")
reply = client.chat.completions.create(model="gpt-4o-mini-2024-07-18", messages=[])
message = claude.messages.create(model="claude-3-5-sonnet-20241022")
URL = "https://api.openai.com/v1"
"#;

#[test]
fn python_imports_clients_hosts_and_models() {
    let tree = Tree::new();
    tree.file("app/main.py", PYTHON);
    let scan = tree.scan();
    scan.assert_rows(vec![
        row("app/main.py", 2, "import", "openai"),
        row("app/main.py", 3, "import", "anthropic"),
        row("app/main.py", 4, "import", "pytorch"),
        row("app/main.py", 5, "import", "transformers"),
        row("app/main.py", 7, "client", "openai"),
        row("app/main.py", 8, "client", "anthropic"),
        row("app/main.py", 9, "model_id", "llama-3.1-8b-instruct"),
        row(
            "app/main.py",
            9,
            "model_id",
            "meta-llama/Llama-3.1-8B-Instruct",
        ),
        row("app/main.py", 10, "model_id", "gpt-4o-mini"),
        row("app/main.py", 11, "model_id", "claude-3-5-sonnet"),
        row("app/main.py", 12, "api_endpoint", "openai"),
    ]);

    let client = scan.get("app/main.py", "client", "openai");
    assert_eq!(attribute(client, "category"), "hosted_api");
    assert_eq!(attribute(client, "provider"), "openai");
    assert_eq!(attribute(client, "gpai"), "true");
    assert_eq!(attribute(client, "language"), "python");
    assert_eq!(client.evidence.as_deref(), Some("client = openai.OpenAI()"));
    assert_eq!(client.source, "code");
    assert_eq!(client.project_root, ".");
    let scope = std::fs::canonicalize(tree.path()).expect("canonical root");
    assert_eq!(client.scope, scope.to_string_lossy());
    let expected_id =
        proto::Finding::stable_id(&client.scope, "app/main.py", client.kind, "openai");
    assert_eq!(client.external_id, expected_id);

    let torch = scan.get("app/main.py", "import", "pytorch");
    assert_eq!(attribute(torch, "category"), "ml_library");
    assert_eq!(attribute(torch, "module"), "torch.nn");
    assert_eq!(attribute(torch, "gpai"), "");

    let repo = scan.get(
        "app/main.py",
        "model_id",
        "meta-llama/Llama-3.1-8B-Instruct",
    );
    assert_eq!(attribute(repo, "provider"), "meta");
    assert_eq!(attribute(repo, "gpai"), "true");
    let model = scan.get("app/main.py", "model_id", "gpt-4o-mini");
    assert_eq!(attribute(model, "model_id"), "gpt-4o-mini-2024-07-18");
}

const TYPESCRIPT: &str = r#"import OpenAI from "openai";
import { Anthropic } from '@anthropic-ai/sdk';
const { GoogleGenerativeAI } = require("@google/generative-ai");
// import { Mistral } from "@mistralai/mistralai";
const openai = new OpenAI({ apiKey: process.env.OPENAI_API_KEY });
const anthropic = new Anthropic();
const genAI = new GoogleGenerativeAI(key);
const model = genAI.getGenerativeModel({ model: "gemini-1.5-pro-002" });
const lazy = await import("@aws-sdk/client-bedrock-runtime");
"#;

#[test]
fn typescript_imports_clients_and_models() {
    let tree = Tree::new();
    tree.file("web/src/chat.ts", TYPESCRIPT);
    let scan = tree.scan();
    scan.assert_rows(vec![
        row("web/src/chat.ts", 1, "import", "openai"),
        row("web/src/chat.ts", 2, "import", "anthropic"),
        row("web/src/chat.ts", 3, "import", "google-gemini"),
        row("web/src/chat.ts", 5, "client", "openai"),
        row("web/src/chat.ts", 6, "client", "anthropic"),
        row("web/src/chat.ts", 7, "client", "google-gemini"),
        row("web/src/chat.ts", 8, "model_id", "gemini-1.5-pro"),
        row("web/src/chat.ts", 9, "import", "aws-bedrock"),
    ]);
}

const GO: &str = r#"package main

import (
	"context"
	openai "github.com/sashabaranov/go-openai"
	"github.com/anthropics/anthropic-sdk-go/option"
)

func main() {
	client := openai.NewClient("token")
	_ = client
	_ = "gpt-4o"
}
"#;

#[test]
fn go_imports_and_clients() {
    let tree = Tree::new();
    tree.file("svc/main.go", GO);
    let scan = tree.scan();
    scan.assert_rows(vec![
        row("svc/main.go", 5, "import", "openai"),
        row("svc/main.go", 6, "import", "anthropic"),
        row("svc/main.go", 10, "client", "openai"),
        row("svc/main.go", 12, "model_id", "gpt-4o"),
    ]);
}

const JAVA: &str = r#"package com.acme;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import software.amazon.awssdk.services.bedrockruntime.BedrockRuntimeClient;

class Chat {
    OpenAIClient client = OpenAIOkHttpClient.fromEnv();
    String model = "anthropic.claude-3-5-sonnet-20240620-v1:0";
}
"#;

const KOTLIN: &str = r#"package com.acme

import dev.langchain4j.model.openai.OpenAiChatModel

fun main() {}
"#;

#[test]
fn java_and_kotlin_imports_and_clients() {
    let tree = Tree::new();
    tree.file("jvm/src/Chat.java", JAVA);
    tree.file("jvm/src/Main.kt", KOTLIN);
    let scan = tree.scan();
    scan.assert_rows(vec![
        row("jvm/src/Chat.java", 3, "import", "openai"),
        row("jvm/src/Chat.java", 5, "import", "aws-bedrock"),
        row("jvm/src/Chat.java", 8, "client", "openai"),
        row("jvm/src/Chat.java", 9, "model_id", "claude-3-5-sonnet"),
        row("jvm/src/Main.kt", 3, "import", "langchain"),
    ]);
}

const RUST: &str = r#"use async_openai::{Client, types::CreateChatCompletionRequestArgs};
use candle_core::Device;
use serde::Deserialize;

fn main() {
    let client = async_openai::Client::new();
    let model = "gpt-4.1-mini";
}
"#;

const CSHARP: &str = r#"using System;
using Azure.AI.OpenAI;
using OpenAI.Chat;

var client = new AzureOpenAIClient(new Uri("https://acme.openai.azure.com/"), credential);
ChatClient chat = new ChatClient(model: "gpt-4o", apiKey: key);
"#;

#[test]
fn rust_and_csharp_imports_and_clients() {
    let tree = Tree::new();
    tree.file("rs/src/main.rs", RUST);
    tree.file("net/Program.cs", CSHARP);
    let scan = tree.scan();
    scan.assert_rows(vec![
        row("net/Program.cs", 2, "import", "azure-openai"),
        row("net/Program.cs", 3, "import", "openai"),
        row("net/Program.cs", 5, "api_endpoint", "azure-openai"),
        row("net/Program.cs", 5, "client", "azure-openai"),
        row("net/Program.cs", 6, "client", "openai"),
        row("net/Program.cs", 6, "model_id", "gpt-4o"),
        row("rs/src/main.rs", 1, "import", "openai"),
        row("rs/src/main.rs", 2, "import", "candle"),
        row("rs/src/main.rs", 6, "client", "openai"),
        row("rs/src/main.rs", 7, "model_id", "gpt-4.1-mini"),
    ]);
}

#[test]
fn crlf_line_endings_keep_lines() {
    let tree = Tree::new();
    tree.file(
        "win/app.py",
        "import os\r\nimport openai\r\nclient = openai.OpenAI()\r\nmodel = \"gpt-4o\"\r\n",
    );
    tree.file(
        "win/config.yaml",
        "model_name_or_path: mistralai/Mistral-7B-v0.1\r\nendpoint: https://api.openai.com\r\n",
    );
    let scan = tree.scan();
    scan.assert_rows(vec![
        row("win/app.py", 2, "import", "openai"),
        row("win/app.py", 3, "client", "openai"),
        row("win/app.py", 4, "model_id", "gpt-4o"),
        row("win/config.yaml", 1, "model_id", "mistral-7b"),
        row(
            "win/config.yaml",
            1,
            "model_id",
            "mistralai/Mistral-7B-v0.1",
        ),
        row("win/config.yaml", 2, "api_endpoint", "openai"),
    ]);
    let client = scan.get("win/app.py", "client", "openai");
    assert_eq!(client.evidence.as_deref(), Some("client = openai.OpenAI()"));
}

#[test]
fn python_bedrock_clients_by_service_name() {
    let tree = Tree::new();
    tree.file(
        "aws/invoke.py",
        "import boto3\nruntime = boto3.client(\"bedrock-runtime\")\nsession_client = boto3.Session().client(service_name='bedrock-runtime')\nstorage = boto3.client(\"s3\")\n",
    );
    let scan = tree.scan();
    scan.assert_rows(vec![row("aws/invoke.py", 2, "client", "aws-bedrock")]);
    let client = scan.get("aws/invoke.py", "client", "aws-bedrock");
    assert_eq!(attribute(client, "provider"), "aws-bedrock");
}
