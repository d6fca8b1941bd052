//! Notebooks, Hugging Face model cards and `secruna.yaml` declarations.

use crate::support::{Tree, attribute, row, row_without_line};

const NOTEBOOK: &str = r##"{
 "cells": [
  {
   "cell_type": "markdown",
   "metadata": {},
   "source": ["We compare `import openai` with a local model.\n", "See api.openai.com."]
  },
  {
   "cell_type": "code",
   "metadata": {},
   "outputs": [{"output_type": "stream", "name": "stdout", "text": ["import anthropic\n"]}],
   "source": ["!pip install openai transformers\n", "import os\n"]
  },
  {
   "cell_type": "code",
   "metadata": {},
   "outputs": [],
   "source": "from transformers import pipeline\nclassifier = pipeline(\"sentiment-analysis\", model=\"distilbert/distilbert-base-uncased-finetuned-sst-2-english\")\n"
  }
 ],
 "metadata": {"kernelspec": {"language": "python", "name": "python3"}},
 "nbformat": 4,
 "nbformat_minor": 5
}
"##;

#[test]
fn notebook_code_cells_only_with_cell_lines() {
    let tree = Tree::new();
    tree.file("research/explore.ipynb", NOTEBOOK);
    let scan = tree.scan();
    scan.assert_rows(vec![
        row("research/explore.ipynb", 1, "dependency", "openai"),
        row("research/explore.ipynb", 1, "dependency", "transformers"),
        row("research/explore.ipynb", 1, "import", "transformers"),
        row(
            "research/explore.ipynb",
            2,
            "model_id",
            "distilbert/distilbert-base-uncased-finetuned-sst-2-english",
        ),
    ]);
    let import = scan.get("research/explore.ipynb", "import", "transformers");
    assert_eq!(attribute(import, "cell"), "2");
    assert_eq!(attribute(import, "language"), "python");
}

#[test]
fn invalid_notebook_is_reported_not_fatal() {
    let tree = Tree::new();
    tree.file("broken.ipynb", "{\"cells\": [");
    tree.file("ok.py", "import openai\n");
    let scan = tree.scan();
    scan.assert_rows(vec![row("ok.py", 1, "import", "openai")]);
    assert_eq!(scan.report.errors.len(), 1);
    assert_eq!(scan.report.errors[0].path, "broken.ipynb");
    assert!(
        scan.report.errors[0]
            .message
            .starts_with("invalid notebook JSON"),
        "{:?}",
        scan.report.errors
    );
}

const MODEL_CARD: &str = "---
license: apache-2.0
library_name: transformers
pipeline_tag: text-classification
base_model: google-bert/bert-base-uncased
tags:
  - finance
---
# Loan scorer

We call the hosted model with `import openai` and https://api.openai.com/v1, using gpt-4o.
";

#[test]
fn model_card_counts_but_prose_not() {
    let tree = Tree::new();
    tree.file("loan-scorer/README.md", MODEL_CARD);
    tree.file(
        "docs/README.md",
        "---\ntitle: Docs\n---\n\n```python\nimport openai\nclient = openai.OpenAI()\n```\n",
    );
    tree.file(
        "docs/guide.md",
        "Run `pip install anthropic` and call `Anthropic()` with claude-3-5-sonnet.\n",
    );
    let scan = tree.scan();
    scan.assert_rows(vec![row(
        "loan-scorer/README.md",
        1,
        "model_card",
        "loan-scorer",
    )]);
    let card = scan.get("loan-scorer/README.md", "model_card", "loan-scorer");
    assert_eq!(attribute(card, "library_name"), "transformers");
    assert_eq!(attribute(card, "pipeline_tag"), "text-classification");
    assert_eq!(
        attribute(card, "base_model"),
        "google-bert/bert-base-uncased"
    );
    assert_eq!(attribute(card, "license"), "apache-2.0");
    assert_eq!(attribute(card, "category"), "model_card");
}

#[test]
fn declaration_becomes_one_finding_at_its_root() {
    let tree = Tree::new();
    tree.file(
        "loans/secruna.yaml",
        "name: Loan scorer\npurpose: scores the creditworthiness of loan applicants\nrole: deployer\n",
    );
    tree.file("loans/src/score.py", "import sklearn\n");
    let scan = tree.scan();
    scan.assert_rows(vec![
        row_without_line("loans/secruna.yaml", "declaration", "secruna.yaml"),
        row("loans/src/score.py", 1, "import", "scikit-learn"),
    ]);
    let declaration = scan.get("loans/secruna.yaml", "declaration", "secruna.yaml");
    assert_eq!(attribute(declaration, "category"), "declaration");
    assert_eq!(attribute(declaration, "name"), "Loan scorer");
    assert_eq!(attribute(declaration, "role"), "deployer");
    assert_eq!(declaration.project_root, "loans");
    assert_eq!(declaration.confidence, 1.0);
    let import = scan.get("loans/src/score.py", "import", "scikit-learn");
    assert_eq!(import.project_root, "loans");
}

#[test]
fn invalid_declaration_is_a_scan_issue() {
    let tree = Tree::new();
    tree.file("app/secruna.yaml", "name: App\nrole: overlord\n");
    let scan = tree.scan();
    scan.assert_rows(vec![]);
    assert_eq!(scan.report.errors.len(), 1);
    let issue = &scan.report.errors[0];
    assert_eq!(issue.path, "app/secruna.yaml");
    assert!(issue.message.contains("line 2"), "{}", issue.message);
    assert!(issue.message.contains("role"), "{}", issue.message);
}
