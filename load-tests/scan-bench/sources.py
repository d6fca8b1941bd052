"""Source-code text for the benchmark tree: ordinary code blocks and AI-using snippets.

Every template uses ``@@name@@`` placeholders, because braces, ``$`` and ``%`` are
ordinary characters in the languages generated here. All randomness comes from the
``random.Random`` passed in, so the same seed gives the same text.
"""

import random
import re

NOUNS = (
    "account", "invoice", "order", "customer", "payment", "session", "report", "ticket",
    "shipment", "profile", "record", "batch", "event", "message", "token", "document",
    "schedule", "policy", "quota", "region", "tenant", "ledger", "metric", "channel",
    "cursor", "bucket", "snapshot", "export", "import", "review", "comment", "label",
    "address", "contract", "warehouse", "product", "price", "discount", "refund", "claim",
)
VERBS = (
    "load", "save", "build", "parse", "render", "validate", "merge", "split", "fetch",
    "publish", "archive", "resolve", "compute", "normalize", "filter", "collect", "apply",
    "update", "create", "remove", "refresh", "encode", "decode", "sync", "count", "sort",
)
ADJECTIVES = (
    "active", "pending", "stale", "primary", "default", "remote", "local", "cached",
    "partial", "visible", "archived", "expired", "shared", "internal", "public", "draft",
)

PLACEHOLDER = re.compile(r"@@(\w+)@@")


def words(rng: random.Random) -> dict:
    """Return one random choice for every placeholder a block template may use."""
    noun, other = rng.sample(NOUNS, 2)
    verb, verb2 = rng.sample(VERBS, 2)
    adjective = rng.choice(ADJECTIVES)
    return {
        "noun": noun,
        "Noun": noun.capitalize(),
        "other": other,
        "Other": other.capitalize(),
        "verb": verb,
        "Verb": verb.capitalize(),
        "verb2": verb2,
        "Verb2": verb2.capitalize(),
        "adj": adjective,
        "Adj": adjective.capitalize(),
        "ADJ": adjective.upper(),
        "NOUN": noun.upper(),
        "n": str(rng.randint(2, 500)),
        "m": str(rng.randint(1, 60)),
    }


def fill(template: str, values: dict) -> str:
    """Replace every ``@@name@@`` in ``template`` with ``values[name]``."""
    return PLACEHOLDER.sub(lambda match: values[match.group(1)], template)


PYTHON_BLOCKS = (
    '''

def @@verb@@_@@noun@@s(@@noun@@s: list[dict], limit: int = @@n@@) -> list[dict]:
    """@@Verb@@ up to `limit` @@noun@@s, skipping @@adj@@ ones."""
    result = []
    for index, @@noun@@ in enumerate(@@noun@@s):
        if index >= limit:
            break
        if @@noun@@.get("status") == "@@adj@@":
            continue
        result.append(_@@verb2@@_@@noun@@(@@noun@@))
    logger.debug("@@verb@@ %d @@noun@@s", len(result))
    return result
''',
    '''

@dataclass
class @@Adj@@@@Noun@@:
    """A @@noun@@ as stored by the @@other@@ service."""

    id: str
    @@other@@_id: str
    retries: int = @@m@@
    tags: list[str] = field(default_factory=list)

    def is_@@adj@@(self) -> bool:
        return self.retries > @@m@@ and "@@adj@@" in self.tags

    def to_dict(self) -> dict:
        return {"id": self.id, "@@other@@_id": self.@@other@@_id, "tags": list(self.tags)}
''',
    '''

class @@Noun@@Repository:
    """Reads and writes @@noun@@ rows."""

    def __init__(self, connection):
        self._connection = connection

    def @@verb@@(self, @@noun@@_id: str):
        cursor = self._connection.cursor()
        cursor.execute("SELECT * FROM @@noun@@s WHERE id = %s", (@@noun@@_id,))
        row = cursor.fetchone()
        if row is None:
            raise KeyError(f"@@noun@@ {@@noun@@_id} not found")
        return row

    def @@verb2@@_all(self, @@other@@_id: str) -> int:
        cursor = self._connection.cursor()
        cursor.execute("UPDATE @@noun@@s SET state = '@@adj@@' WHERE @@other@@_id = %s", (@@other@@_id,))
        return cursor.rowcount
''',
    '''

def test_@@verb@@_@@noun@@_keeps_@@adj@@_entries():
    items = [{"id": str(i), "status": "@@adj@@"} for i in range(@@m@@)]
    out = @@verb@@_@@noun@@s(items, limit=@@n@@)
    assert len(out) <= @@n@@
    assert all(item["id"] for item in out)
''',
)

JS_BLOCKS = (
    '''

export async function @@verb@@@@Noun@@s(client, @@other@@Id, options = {}) {
  const limit = options.limit ?? @@n@@;
  const response = await client.get(`/api/@@other@@s/${@@other@@Id}/@@noun@@s`, { params: { limit } });
  if (response.status !== 200) {
    throw new Error(`failed to @@verb@@ @@noun@@s: ${response.status}`);
  }
  return response.data.items.filter((item) => item.state !== "@@adj@@");
}
''',
    '''

export class @@Noun@@Store {
  constructor(db) {
    this.db = db;
    this.cache = new Map();
  }

  async @@verb@@(id) {
    if (this.cache.has(id)) {
      return this.cache.get(id);
    }
    const row = await this.db.query("SELECT * FROM @@noun@@s WHERE id = $1", [id]);
    this.cache.set(id, row);
    return row;
  }

  @@verb2@@All(predicate) {
    return [...this.cache.values()].filter(predicate).slice(0, @@n@@);
  }
}
''',
    '''

const @@ADJ@@_@@NOUN@@_LIMIT = @@n@@;

export function @@verb@@@@Other@@(@@other@@, @@noun@@s) {
  const grouped = {};
  for (const @@noun@@ of @@noun@@s) {
    const key = @@noun@@.@@other@@Id ?? "unknown";
    grouped[key] = grouped[key] || [];
    if (grouped[key].length < @@ADJ@@_@@NOUN@@_LIMIT) {
      grouped[key].push({ ...@@noun@@, @@other@@: @@other@@.name });
    }
  }
  return grouped;
}
''',
)

TS_BLOCKS = (
    '''

export interface @@Adj@@@@Noun@@ {
  id: string;
  @@other@@Id: string;
  createdAt: Date;
  retries: number;
}

export function @@verb@@@@Noun@@(input: Partial<@@Adj@@@@Noun@@>): @@Adj@@@@Noun@@ {
  if (!input.id) {
    throw new Error("@@noun@@ id is required");
  }
  return {
    id: input.id,
    @@other@@Id: input.@@other@@Id ?? "",
    createdAt: input.createdAt ?? new Date(),
    retries: Math.min(input.retries ?? 0, @@m@@),
  };
}
''',
    '''

export class @@Noun@@Service {
  private readonly pending = new Set<string>();

  constructor(private readonly http: HttpClient, private readonly log: Logger) {}

  async @@verb@@(id: string): Promise<@@Noun@@ | undefined> {
    this.pending.add(id);
    try {
      const result = await this.http.get<@@Noun@@>(`/@@noun@@s/${id}`);
      this.log.debug("@@verb@@ @@noun@@", { id });
      return result;
    } finally {
      this.pending.delete(id);
    }
  }
}
''',
)

GO_BLOCKS = (
    '''

// @@Verb@@@@Noun@@s returns at most limit @@noun@@s that are not @@adj@@.
func @@Verb@@@@Noun@@s(ctx context.Context, db *sql.DB, limit int) ([]@@Noun@@, error) {
	rows, err := db.QueryContext(ctx, "SELECT id, @@other@@_id FROM @@noun@@s WHERE state <> $1 LIMIT $2", "@@adj@@", limit)
	if err != nil {
		return nil, fmt.Errorf("query @@noun@@s: %w", err)
	}
	defer rows.Close()
	var out []@@Noun@@
	for rows.Next() {
		var item @@Noun@@
		if err := rows.Scan(&item.ID, &item.@@Other@@ID); err != nil {
			return nil, err
		}
		out = append(out, item)
	}
	return out, rows.Err()
}
''',
    '''

// @@Noun@@ is one @@noun@@ row.
type @@Noun@@ struct {
	ID        string    `json:"id"`
	@@Other@@ID string    `json:"@@other@@_id"`
	CreatedAt time.Time `json:"created_at"`
	Retries   int       `json:"retries"`
}

func (x *@@Noun@@) Is@@Adj@@() bool {
	return x.Retries > @@m@@ || time.Since(x.CreatedAt) > @@n@@*time.Hour
}
''',
    '''

func handle@@Verb@@@@Noun@@(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("id")
	if id == "" {
		http.Error(w, "missing id", http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"id": id, "state": "@@adj@@", "limit": @@n@@})
}
''',
)

JAVA_BLOCKS = (
    '''

    /** @@Verb@@s the @@noun@@s of one @@other@@, skipping @@adj@@ entries. */
    public List<@@Noun@@> @@verb@@@@Noun@@s(String @@other@@Id) {
        List<@@Noun@@> result = new ArrayList<>();
        for (@@Noun@@ item : repository.findBy@@Other@@Id(@@other@@Id)) {
            if ("@@adj@@".equals(item.getState())) {
                continue;
            }
            result.add(item);
            if (result.size() >= @@n@@) {
                break;
            }
        }
        log.debug("@@verb@@ {} @@noun@@s", result.size());
        return result;
    }
''',
    '''

    public Optional<@@Noun@@> @@verb2@@(String id) {
        Objects.requireNonNull(id, "id");
        return cache.computeIfAbsent(id, key -> repository.findById(key).orElse(null)) == null
            ? Optional.empty()
            : Optional.of(cache.get(id));
    }

    private static int retries@@Adj@@(int attempt) {
        return Math.min(attempt * @@m@@, @@n@@);
    }
''',
)

KOTLIN_BLOCKS = (
    '''

data class @@Adj@@@@Noun@@(val id: String, val @@other@@Id: String, val retries: Int = @@m@@)

fun @@verb@@@@Noun@@s(items: List<@@Adj@@@@Noun@@>, limit: Int = @@n@@): List<@@Adj@@@@Noun@@> =
    items.filter { it.retries < limit }
        .sortedBy { it.id }
        .take(limit)
''',
    '''

class @@Noun@@Service(private val repository: @@Noun@@Repository) {
    suspend fun @@verb@@(id: String): @@Noun@@? {
        val row = repository.findById(id) ?: return null
        if (row.state == "@@adj@@") {
            logger.info { "skipping @@adj@@ @@noun@@ $id" }
            return null
        }
        return row.copy(retries = row.retries + 1)
    }
}
''',
)

RUST_BLOCKS = (
    '''

/// @@Verb@@s the @@noun@@s of one @@other@@, skipping @@adj@@ entries.
pub fn @@verb@@_@@noun@@s(items: &[@@Noun@@], limit: usize) -> Vec<&@@Noun@@> {
    items
        .iter()
        .filter(|item| item.state != State::@@Adj@@)
        .take(limit.min(@@n@@))
        .collect()
}
''',
    '''

/// One @@noun@@ row.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct @@Noun@@ {
    pub id: String,
    pub @@other@@_id: String,
    pub retries: u32,
}

impl @@Noun@@ {
    pub fn is_@@adj@@(&self) -> bool {
        self.retries > @@m@@
    }
}
''',
    '''

#[cfg(test)]
mod @@verb@@_@@noun@@_tests {
    use super::*;

    #[test]
    fn @@verb@@_keeps_order() {
        let items: Vec<u32> = (0..@@m@@).collect();
        let sorted = items.clone();
        assert_eq!(items, sorted);
    }
}
''',
)

CSHARP_BLOCKS = (
    '''

    public async Task<IReadOnlyList<@@Noun@@>> @@Verb@@@@Noun@@sAsync(string @@other@@Id, CancellationToken ct)
    {
        var items = await _db.@@Noun@@s
            .Where(x => x.@@Other@@Id == @@other@@Id && x.State != "@@adj@@")
            .OrderBy(x => x.CreatedAt)
            .Take(@@n@@)
            .ToListAsync(ct);
        _logger.LogDebug("@@Verb@@ {Count} @@noun@@s", items.Count);
        return items;
    }
''',
    '''

    public bool Is@@Adj@@(@@Noun@@ item)
    {
        if (item is null)
        {
            throw new ArgumentNullException(nameof(item));
        }
        return item.Retries > @@m@@;
    }
''',
)

BLOCKS = {
    "python": PYTHON_BLOCKS,
    "javascript": JS_BLOCKS,
    "typescript": TS_BLOCKS + JS_BLOCKS,
    "go": GO_BLOCKS,
    "java": JAVA_BLOCKS,
    "kotlin": KOTLIN_BLOCKS,
    "rust": RUST_BLOCKS,
    "csharp": CSHARP_BLOCKS,
}

EXTENSIONS = {
    "python": ".py",
    "javascript": ".js",
    "typescript": ".ts",
    "go": ".go",
    "java": ".java",
    "kotlin": ".kt",
    "rust": ".rs",
    "csharp": ".cs",
}


def header(language: str, module: str) -> str:
    """Return the ordinary opening lines of a source file: package line and plain imports."""
    if language == "python":
        return (
            f'"""{module.replace("_", " ").capitalize()} helpers."""\n\n'
            "import logging\nimport os\nfrom dataclasses import dataclass, field\n\n"
            "logger = logging.getLogger(__name__)\n"
        )
    if language in ("javascript", "typescript"):
        return 'import fs from "node:fs/promises";\nimport path from "node:path";\n'
    if language == "go":
        return (
            f"package {module}\n\nimport (\n\t\"context\"\n\t\"database/sql\"\n\t\"encoding/json\"\n"
            "\t\"fmt\"\n\t\"net/http\"\n\t\"time\"\n)\n"
        )
    if language == "java":
        return (
            f"package com.example.{module};\n\nimport java.util.ArrayList;\nimport java.util.List;\n"
            "import java.util.Objects;\nimport java.util.Optional;\n"
        )
    if language == "kotlin":
        return f"package com.example.{module}\n\nimport kotlinx.coroutines.flow.Flow\n"
    if language == "rust":
        return f"//! {module.replace('_', ' ').capitalize()}.\n\nuse std::collections::HashMap;\n"
    return (
        "using System;\nusing System.Collections.Generic;\nusing System.Linq;\n"
        f"using System.Threading;\nusing System.Threading.Tasks;\n\nnamespace Example.{module.capitalize()};\n"
    )


def class_open(language: str, module: str) -> str:
    """Return the line that opens the class around Java and C# methods, or ``""``."""
    name = "".join(part.capitalize() for part in module.split("_"))
    if language == "java":
        return f"\npublic class {name}Service {{\n"
    if language == "csharp":
        return f"\npublic sealed class {name}Service\n{{\n"
    return ""


def class_close(language: str) -> str:
    """Return the line that closes what ``class_open`` opened."""
    return "}\n" if language in ("java", "csharp") else ""


def block_pool(rng: random.Random, language: str, size: int) -> list[str]:
    """Render ``size`` code blocks of ``language`` with random names."""
    templates = BLOCKS[language]
    return [fill(rng.choice(templates), words(rng)) for _ in range(size)]
