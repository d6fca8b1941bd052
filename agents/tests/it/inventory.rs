//! Inventory import: CSV and XLSX files with good and bad rows, and the connector's findings.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use agents::inventory::{
    DataCategory, InventoryError, InventoryFactory, InventoryFormat, RowError, UseCategory,
    parse_inventory,
};
use agents::{ConnectorSpec, CrawlReport, FindingSink, SourceFactory};
use proto::{Declaration, Finding, FindingKind, HumanOversight, ModelSource, Role};
use rust_xlsxwriter::Workbook;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/inventory")
        .join(name)
}

fn fixture_bytes(name: &str) -> Vec<u8> {
    std::fs::read(fixture(name)).expect("fixture exists")
}

fn row_error(row: u32, column: &str, reason: &str) -> RowError {
    RowError {
        row,
        column: column.to_owned(),
        reason: reason.to_owned(),
    }
}

/// The row errors of `surveying-tools.csv`, in file order.
fn expected_row_errors() -> Vec<RowError> {
    vec![
        row_error(6, "product", "is empty: write the product name"),
        row_error(
            7,
            "human review",
            "\"maybe\" is not yes/no: write yes or no",
        ),
        row_error(
            9,
            "product",
            "\"avm pro\" by \"hometrack\" is already listed in row 2: merge the two rows into one",
        ),
        row_error(
            10,
            "use category",
            "\"surveying\" is not a use category: write one of valuation, gis, drafting, \
             chatbot, transcription, image_analysis, research, code_assistant, analytics, \
             recruitment, other",
        ),
        row_error(
            10,
            "data categories",
            "\"health\" is not a data category: write one or more of none, public, internal, \
             client_confidential, personal, special_category, financial, property, geospatial, \
             imagery, separated by commas",
        ),
    ]
}

#[test]
fn csv_keeps_good_rows_and_reports_bad_ones() {
    let parsed = parse_inventory(&fixture_bytes("surveying-tools.csv"), InventoryFormat::Csv)
        .expect("header is valid");

    let rows: Vec<(u32, &str, &str)> = parsed
        .entries
        .iter()
        .map(|entry| (entry.row, entry.vendor.as_str(), entry.product.as_str()))
        .collect();
    assert_eq!(
        rows,
        vec![
            (2, "Hometrack", "AVM Pro"),
            (3, "Esri", "ArcGIS GeoAI"),
            (4, "OpenAI", "ChatGPT Team"),
            (5, "Intercom", "Fin"),
            (8, "=HYPERLINK(\"https://example.com\")", "Formula Tool"),
        ]
    );
    assert_eq!(parsed.row_errors, expected_row_errors());
    assert_eq!(parsed.unknown_columns, vec!["Licence cost".to_owned()]);
}

#[test]
fn csv_cells_are_read_into_entries() {
    let parsed = parse_inventory(&fixture_bytes("surveying-tools.csv"), InventoryFormat::Csv)
        .expect("header is valid");

    let esri = &parsed.entries[1];
    assert_eq!(
        esri.purpose,
        "Extracts building footprints from aerial imagery"
    );
    assert_eq!(esri.use_category, UseCategory::Gis);
    assert_eq!(
        esri.data_categories,
        vec![DataCategory::Geospatial, DataCategory::Imagery]
    );
    assert!(esri.human_review);
    assert!(!esri.client_facing);
    assert_eq!(esri.owner.as_deref(), Some("GIS team"));

    let chatgpt = &parsed.entries[2];
    assert_eq!(chatgpt.use_category, UseCategory::Drafting);
    assert_eq!(
        chatgpt.data_categories,
        vec![DataCategory::ClientConfidential, DataCategory::Personal]
    );

    let fin = &parsed.entries[3];
    assert!(!fin.human_review);
    assert!(fin.client_facing);
}

#[test]
fn row_error_reads_as_one_line() {
    let error = row_error(
        7,
        "human review",
        "\"maybe\" is not yes/no: write yes or no",
    );
    assert_eq!(
        error.to_string(),
        "row 7, column \"human review\": \"maybe\" is not yes/no: write yes or no"
    );
}

#[test]
fn bom_and_crlf_give_the_same_result() {
    let plain = fixture_bytes("surveying-tools.csv");
    let text = String::from_utf8(plain.clone()).expect("fixture is UTF-8");
    let mut windows = b"\xEF\xBB\xBF".to_vec();
    windows.extend_from_slice(text.replace('\n', "\r\n").as_bytes());

    let from_plain = parse_inventory(&plain, InventoryFormat::Csv).expect("valid");
    let from_windows = parse_inventory(&windows, InventoryFormat::Csv).expect("valid");
    assert_eq!(from_windows, from_plain);
    assert_eq!(from_windows.entries[0].vendor, "Hometrack");
}

#[test]
fn semicolon_separated_file_is_read() {
    let text = "vendor;product;purpose;use category;human review;client facing\n\
                Hometrack;AVM Pro;Values homes;valuation;yes;no\n";
    let parsed = parse_inventory(text.as_bytes(), InventoryFormat::Csv).expect("valid");
    assert_eq!(parsed.entries.len(), 1);
    assert!(parsed.row_errors.is_empty());
}

#[test]
fn empty_file_is_a_file_error() {
    let error = parse_inventory(b"", InventoryFormat::Csv).expect_err("no header");
    assert_eq!(error, InventoryError::Empty);
    let error = parse_inventory(b"\xEF\xBB\xBF\r\n", InventoryFormat::Csv).expect_err("no header");
    assert_eq!(error, InventoryError::Empty);
}

#[test]
fn header_only_file_has_no_entries() {
    let text = "vendor,product,purpose,use category,human review,client facing\r\n";
    let parsed = parse_inventory(text.as_bytes(), InventoryFormat::Csv).expect("valid");
    assert!(parsed.entries.is_empty());
    assert!(parsed.row_errors.is_empty());
}

#[test]
fn missing_column_is_named() {
    let text = "vendor,product,purpose,use category,client facing\nA,B,C,other,no\n";
    let error = parse_inventory(text.as_bytes(), InventoryFormat::Csv).expect_err("no review");
    assert_eq!(
        error.to_string(),
        "the header row (row 1) has no column \"human review\": add it, the template header \
         is `vendor,product,purpose,use category,data categories,human review,client facing,owner`"
    );
}

#[test]
fn template_imports_without_errors() {
    let template =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/connectors/inventory-template.csv");
    let bytes = std::fs::read(template).expect("template exists");
    let parsed = parse_inventory(&bytes, InventoryFormat::Csv).expect("valid");
    assert!(parsed.row_errors.is_empty(), "{:?}", parsed.row_errors);
    assert!(parsed.unknown_columns.is_empty());
    assert!(!parsed.entries.is_empty());
}

/// Writes the rows of `surveying-tools.csv` into a workbook: an unrelated first sheet, then
/// an `Inventory` sheet whose header sits on row 3, with booleans and numbers as typed cells.
fn surveying_workbook() -> Vec<u8> {
    let mut workbook = Workbook::new();
    let notes = workbook.add_worksheet();
    notes.set_name("Notes").expect("sheet name");
    notes.write_string(0, 0, "Read me first").expect("cell");

    let sheet = workbook.add_worksheet();
    sheet.set_name("Inventory").expect("sheet name");
    let header = [
        "Vendor",
        "Product",
        "Purpose",
        "Use category",
        "Data categories",
        "Human review",
        "Client facing",
        "Owner",
    ];
    for (column, name) in header.iter().enumerate() {
        sheet.write_string(2, column as u16, *name).expect("cell");
    }
    let text_rows = [
        [
            "Hometrack",
            "AVM Pro",
            "Values homes",
            "valuation",
            "property",
            "",
            "",
            "Valuation team",
        ],
        [
            "=SUM(A1:A2)",
            "Formula Tool",
            "Kept as text",
            "other",
            "",
            "",
            "",
            "",
        ],
        [
            "Otter.ai",
            "Otter",
            "Writes meeting notes",
            "transcription",
            "personal",
            "maybe",
            "no",
            "",
        ],
    ];
    for (offset, cells) in text_rows.iter().enumerate() {
        let row = 3 + offset as u32;
        for (column, value) in cells.iter().enumerate() {
            if !value.is_empty() {
                sheet
                    .write_string(row, column as u16, *value)
                    .expect("cell");
            }
        }
    }
    // Typed cells: booleans for the first row, numbers 1/0 for the second.
    sheet.write_boolean(3, 5, true).expect("cell");
    sheet.write_boolean(3, 6, false).expect("cell");
    sheet.write_number(4, 5, 0.0).expect("cell");
    sheet.write_number(4, 6, 1.0).expect("cell");
    workbook.save_to_buffer().expect("workbook")
}

#[test]
fn xlsx_rows_are_checked_like_csv() {
    let parsed = parse_inventory(&surveying_workbook(), InventoryFormat::Xlsx).expect("valid");

    let rows: Vec<(u32, &str, bool, bool)> = parsed
        .entries
        .iter()
        .map(|entry| {
            (
                entry.row,
                entry.vendor.as_str(),
                entry.human_review,
                entry.client_facing,
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            (4, "Hometrack", true, false),
            (5, "=SUM(A1:A2)", false, true)
        ]
    );
    assert_eq!(
        parsed.row_errors,
        vec![row_error(
            6,
            "human review",
            "\"maybe\" is not yes/no: write yes or no"
        )]
    );
}

#[test]
fn csv_bytes_as_xlsx_are_rejected() {
    let error = parse_inventory(b"vendor,product\n", InventoryFormat::Xlsx).expect_err("csv bytes");
    assert!(
        matches!(error, InventoryError::Workbook { .. }),
        "unexpected error: {error}"
    );
}

/// Builds an inventory connector for `path` and crawls its one scope.
async fn crawl(path: &Path) -> (Vec<Finding>, CrawlReport) {
    let spec = ConnectorSpec {
        name: "bought-tools".to_owned(),
        kind: "inventory".to_owned(),
        config: serde_json::json!({ "path": path }),
        secret: None,
    };
    let source = InventoryFactory.build(&spec).expect("valid config");
    let scopes = source.scopes().await.expect("scopes");
    assert_eq!(scopes.len(), 1);
    let findings = Arc::new(Mutex::new(Vec::new()));
    let collected = Arc::clone(&findings);
    let sink: FindingSink = Arc::new(move |finding| collected.lock().expect("lock").push(finding));
    let report = source
        .crawl(&scopes[0], sink)
        .await
        .expect("crawl succeeds");
    let findings = findings.lock().expect("lock").clone();
    (findings, report)
}

#[tokio::test]
async fn crawl_emits_entry_and_declaration_per_good_row() {
    let (findings, report) = crawl(&fixture("surveying-tools.csv")).await;

    assert_eq!(findings.len(), 10);
    assert_eq!(report.num_items, 5);
    assert!(findings.iter().all(|finding| finding.source == "inventory"));
    assert!(
        findings
            .iter()
            .all(|finding| finding.scope == "inventory:surveying-tools.csv")
    );

    let entry = findings
        .iter()
        .find(|finding| {
            finding.kind == FindingKind::InventoryEntry && finding.subject == "OpenAI ChatGPT Team"
        })
        .expect("ChatGPT entry");
    assert_eq!(entry.path, "openai/chatgpt team");
    assert_eq!(entry.project_root, "OpenAI/ChatGPT Team");
    assert_eq!(entry.line, None);
    let expected: Vec<(&str, &str)> = vec![
        ("category", "hosted_api"),
        ("client_facing", "false"),
        ("data_categories", "client_confidential,personal"),
        ("human_review", "true"),
        ("owner", "Head of surveying"),
        ("product", "ChatGPT Team"),
        ("provider", "openai"),
        (
            "purpose",
            "Drafts survey report sections from surveyor notes",
        ),
        ("use_category", "drafting"),
        ("vendor", "OpenAI"),
    ];
    let attributes: Vec<(&str, &str)> = entry
        .attributes
        .iter()
        .map(|(key, value)| (key.as_str(), value.as_str()))
        .collect();
    assert_eq!(attributes, expected);
    assert_eq!(
        entry.external_id,
        Finding::stable_id(
            "inventory:surveying-tools.csv",
            "openai/chatgpt team",
            FindingKind::InventoryEntry,
            "openai/chatgpt team"
        )
    );
}

#[tokio::test]
async fn declaration_finding_carries_the_row_facts() {
    let (findings, _) = crawl(&fixture("surveying-tools.csv")).await;

    let declared = findings
        .iter()
        .find(|finding| {
            finding.kind == FindingKind::Declaration && finding.project_root == "Intercom/Fin"
        })
        .expect("Fin declaration");
    let expected = Declaration {
        name: Some("Intercom Fin".to_owned()),
        purpose: Some("Answers client questions on the website".to_owned()),
        role: Some(Role::Deployer),
        human_oversight: Some(HumanOversight::None),
        interacts_with_people: Some(true),
        processes_personal_data: Some(true),
        model_source: Some(ModelSource::EmbeddedSaas),
        ..Declaration::default()
    };
    let mut attributes = expected.to_attributes();
    attributes.insert("category".to_owned(), "declaration".to_owned());
    assert_eq!(declared.attributes, attributes);
    assert_eq!(declared.subject, "surveying-tools.csv");
    assert_eq!(
        Declaration::from_attributes(&declared.attributes).expect("decodes"),
        expected
    );
}

#[tokio::test]
async fn crawl_reports_row_errors_and_is_incomplete() {
    let (_, report) = crawl(&fixture("surveying-tools.csv")).await;

    let mut expected_issues = vec![
        "surveying-tools.csv: column \"Licence cost\" is not a template column, so its values \
         were not imported"
            .to_owned(),
    ];
    expected_issues.extend(
        expected_row_errors()
            .iter()
            .map(|error| format!("surveying-tools.csv: {error}")),
    );
    assert_eq!(report.issues, expected_issues);
    assert_eq!(
        report.incomplete,
        vec![
            "surveying-tools.csv: 4 rows were not imported; fix them and import the file again"
                .to_owned()
        ]
    );
    assert!(report.gaps.is_empty());
    assert!(!report.is_complete());
}

#[tokio::test]
async fn reimport_yields_the_same_findings() {
    let folder = tempfile::tempdir().expect("temporary folder");
    let path = folder.path().join("surveying-tools.csv");
    std::fs::copy(fixture("surveying-tools.csv"), &path).expect("copy fixture");

    let (first, _) = crawl(&path).await;
    let (second, _) = crawl(&path).await;
    assert_eq!(first, second);

    // Reordered rows and changed letter case keep every id.
    let text = std::fs::read_to_string(&path).expect("read copy");
    let mut lines: Vec<&str> = text.lines().collect();
    lines[1..].reverse();
    std::fs::write(&path, lines.join("\n").replace("Hometrack", "HOMETRACK")).expect("write");
    let (reordered, _) = crawl(&path).await;
    let ids = |findings: &[Finding]| {
        let mut ids: Vec<String> = findings.iter().map(|f| f.external_id.clone()).collect();
        ids.sort();
        ids
    };
    assert_eq!(ids(&reordered), ids(&first));
}

#[tokio::test]
async fn xlsx_file_is_crawled() {
    let folder = tempfile::tempdir().expect("temporary folder");
    let path = folder.path().join("tools.xlsx");
    std::fs::write(&path, surveying_workbook()).expect("write workbook");

    let (findings, report) = crawl(&path).await;
    assert_eq!(findings.len(), 4);
    assert_eq!(report.num_items, 2);
    assert_eq!(
        report.issues,
        vec![
            "tools.xlsx: row 6, column \"human review\": \"maybe\" is not yes/no: write yes or no"
        ]
    );
}

#[tokio::test]
async fn missing_or_empty_file_fails_permanently() {
    let folder = tempfile::tempdir().expect("temporary folder");
    let spec = |path: PathBuf| ConnectorSpec {
        name: "bought-tools".to_owned(),
        kind: "inventory".to_owned(),
        config: serde_json::json!({ "path": path }),
        secret: None,
    };
    let sink: FindingSink = Arc::new(|_| {});

    let missing = InventoryFactory
        .build(&spec(folder.path().join("absent.csv")))
        .expect("valid config");
    let scope = &missing.scopes().await.expect("scopes")[0];
    let error = missing
        .crawl(scope, Arc::clone(&sink))
        .await
        .expect_err("no file");
    assert!(error.permanent);
    assert!(error.message.contains("absent.csv"), "{}", error.message);

    let empty_path = folder.path().join("empty.csv");
    std::fs::write(&empty_path, b"").expect("write");
    let empty = InventoryFactory
        .build(&spec(empty_path))
        .expect("valid config");
    let scope = &empty.scopes().await.expect("scopes")[0];
    let error = empty.crawl(scope, sink).await.expect_err("empty file");
    assert!(error.permanent);
    assert!(
        error.message.contains("the inventory file is empty"),
        "{}",
        error.message
    );
}

#[test]
fn factory_rejects_unknown_format_and_fields() {
    let spec = |config: serde_json::Value| ConnectorSpec {
        name: "bought-tools".to_owned(),
        kind: "inventory".to_owned(),
        config,
        secret: None,
    };
    let error = InventoryFactory
        .build(&spec(serde_json::json!({ "path": "tools.ods" })))
        .err()
        .expect("unknown extension");
    assert!(error.message.contains("set `format`"), "{}", error.message);

    let error = InventoryFactory
        .build(&spec(
            serde_json::json!({ "path": "tools.csv", "sheet": "x" }),
        ))
        .err()
        .expect("unknown field");
    assert!(
        error.message.contains("unknown field `sheet`"),
        "{}",
        error.message
    );

    let source = InventoryFactory
        .build(&spec(
            serde_json::json!({ "path": "export", "format": "XLSX" }),
        ))
        .expect("format given");
    assert_eq!(source.provider(), "inventory");
}
