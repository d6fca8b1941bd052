//! Rule schema, loader and evaluator; the rule packs live in rule_book/v1/<framework>/.
