//! Look-alikes that must not match: similar package names, identifiers, prose and comments.

use crate::support::{Tree, row};

#[test]
fn look_alike_packages_do_not_match() {
    let tree = Tree::new();
    tree.file(
        "py/requirements.txt",
        "openapi-types==1.0\nopenai-utils\nanthropic-bedrock-extra\ntorchmetrics-lite\npy-openai\n",
    );
    tree.file(
        "js/package.json",
        r#"{"dependencies": {"openapi-types": "1", "@types/openai": "1", "openai-edge-fork": "1", "@acme/openai": "1", "langchainx": "1"}}"#,
    );
    tree.file(
        "rs/Cargo.toml",
        "[dependencies]\nopenai-types = \"1\"\nasync_openai = \"1\"\n",
    );
    tree.file(
        "go/go.mod",
        "module x\n\nrequire github.com/acme/go-openai v1.0.0\n",
    );
    tree.file("net/App.csproj", "<Project><ItemGroup><PackageReference Include=\"OpenAI.Tools.Extra\" /></ItemGroup></Project>\n");
    let scan = tree.scan();
    scan.assert_rows(vec![]);
}

#[test]
fn look_alike_identifiers_do_not_match() {
    let tree = Tree::new();
    tree.file(
        "app/adapters.py",
        r#"import openapi_types
import openai_helpers
from mylib.openai import thing
class MyOpenAI(Base):
    pass
adapter = MyOpenAI()
o1 = compute()
# model = "gpt-4o"
gpt4o_enabled = True
url = "https://docs.openai.com.example.invalid/"
"#,
    );
    tree.file(
        "web/util.ts",
        "import { types } from \"openapi-types\";\nconst x = myOpenAI(1);\n// new OpenAI()\n",
    );
    let scan = tree.scan();
    scan.assert_rows(vec![]);
}

#[test]
fn prose_is_not_usage() {
    let tree = Tree::new();
    tree.file(
        "README.md",
        "# Chat bot\n\nInstall with `pip install openai`, then:\n\n```python\nimport openai\nclient = openai.OpenAI()\nclient.chat.completions.create(model=\"gpt-4o\")\n```\n\nCalls https://api.openai.com/v1 and claude-3-5-sonnet.\n",
    );
    tree.file(
        "docs/setup.txt",
        "import anthropic\nAnthropic()\nhttps://api.anthropic.com\n",
    );
    tree.file("docs/guide.rst", "from transformers import pipeline\n");
    tree.file(
        "CHANGELOG.md",
        "Switched from gpt-4 to gpt-4o and added llama-3-8b.\n",
    );
    let scan = tree.scan();
    scan.assert_rows(vec![]);
}

#[test]
fn commented_out_usage_is_ignored() {
    let tree = Tree::new();
    tree.file(
        "svc/main.go",
        "package main\n\n// import \"github.com/sashabaranov/go-openai\"\n// client := openai.NewClient(token)\nfunc main() {}\n",
    );
    tree.file(
        "svc/config.yaml",
        "# endpoint: https://api.openai.com\nendpoint: https://api.anthropic.com\n",
    );
    let scan = tree.scan();
    scan.assert_rows(vec![row("svc/config.yaml", 2, "api_endpoint", "anthropic")]);
}

#[test]
fn large_json_is_data_not_configuration() {
    let tree = Tree::new();
    let mut documents = String::from("[\n");
    while documents.len() < 300 * 1024 {
        documents.push_str(
            "  {\"text\": \"Call https://api.anthropic.com with claude-3-5-sonnet.\"},\n",
        );
    }
    documents.push_str("  {}\n]\n");
    tree.file("data/docs.json", documents);
    tree.file(
        "config/app.json",
        "{\"endpoint\": \"https://api.anthropic.com\"}\n",
    );
    let scan = tree.scan();
    scan.assert_rows(vec![row("config/app.json", 1, "api_endpoint", "anthropic")]);
}

/// A bundled single-line file with many keyword hits is searched once per line, not once per
/// hit; before that, each hit rescanned the whole line for its bounds.
#[test]
fn minified_bundle_is_scanned_once() {
    let tree = Tree::new();
    let mut bundle = String::from("import OpenAI from \"openai\";");
    for index in 0..20_000 {
        bundle.push_str(&format!("var a{index}=openai.models;"));
    }
    bundle.push_str("const c=new OpenAI();\n");
    tree.file("dist/bundle.js", bundle);
    let started = std::time::Instant::now();
    let scan = tree.scan();
    scan.assert_rows(vec![
        row("dist/bundle.js", 1, "client", "openai"),
        row("dist/bundle.js", 1, "import", "openai"),
    ]);
    assert!(
        started.elapsed().as_secs() < 20,
        "scan took {:?}",
        started.elapsed()
    );
}
