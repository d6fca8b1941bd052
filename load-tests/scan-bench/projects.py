"""Lays out project roots: sources, manifests, docs, containers, IaC, notebooks and artefacts."""

import random
from dataclasses import dataclass, field

import ai_usage
import artefacts
import manifests
import sources

LANGUAGES = ("python", "javascript", "typescript", "go", "java", "kotlin", "rust", "csharp")
LANGUAGE_WEIGHTS = (28, 10, 16, 12, 10, 6, 8, 10)

GITIGNORE = "node_modules/\ngenerated/\n*.log\n.DS_Store\n"


@dataclass
class Profile:
    """Contents of one project root besides ordinary code."""

    language: str
    ai_files: int = 0
    notebooks: int = 0
    serving: bool = False
    ai_iac: bool = False
    ai_ci: bool = False
    artefacts: list = field(default_factory=list)

    @property
    def uses_ai(self) -> bool:
        return self.ai_files > 0 or self.notebooks > 0 or bool(self.artefacts)


class Layout:
    """Writes one project root through ``writer``, which counts files and bytes."""

    def __init__(self, rng: random.Random, writer, pools: dict):
        self.rng = rng
        self.writer = writer
        self.pools = pools

    def profile(self, language: str | None = None) -> Profile:
        """Draw a project profile. A minority uses AI: 18 % of the projects in the default tree."""
        rng = self.rng
        language = language or rng.choices(LANGUAGES, LANGUAGE_WEIGHTS)[0]
        profile = Profile(language=language)
        roll = rng.random()
        if roll < 0.12:
            profile.ai_files = rng.randint(1, 6)
        elif roll < 0.16 and language == "python":
            profile.ai_files = rng.randint(2, 8)
            profile.notebooks = rng.randint(1, 6)
        profile.serving = rng.random() < 0.03
        profile.ai_iac = rng.random() < 0.02
        profile.ai_ci = rng.random() < 0.03
        return profile

    def project(self, root: str, name: str, profile: Profile, source_files: int) -> None:
        """Write a whole project root with ``source_files`` source files."""
        rng = self.rng
        write = self.writer.write_text
        write(f"{root}/README.md", self.readme(name, profile))
        write(f"{root}/.gitignore", GITIGNORE)
        self.manifest(root, name, profile)
        self.sources(root, name, profile, source_files)
        for index in range(rng.randint(0, 4)):
            write(f"{root}/docs/{rng.choice(sources.NOUNS)}-{index}.md", self.doc_page())
        write(f"{root}/config/app.yaml", self.app_config(profile))

        self.deployment(root, name, profile)
        self.data_science(root, profile)

        if rng.random() < 0.1:
            self.generated(root)
        if profile.language in ("javascript", "typescript") and rng.random() < 0.35:
            self.node_modules(root)
        if rng.random() < 0.01:
            alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
            key = "sk-proj-" + "".join(rng.choices(alphabet, k=48))
            write(f"{root}/.env", f"DATABASE_URL=postgres://localhost/{name}\nOPENAI_API_KEY={key}\n")
            self.writer.planted["secret"] += 1

    def deployment(self, root: str, name: str, profile: Profile) -> None:
        """Write the Dockerfile, compose file, Terraform and CI workflow the project has."""
        rng = self.rng
        write = self.writer.write_text
        if rng.random() < 0.5:
            write(f"{root}/Dockerfile", manifests.dockerfile(rng, profile.language, profile.serving))
        if rng.random() < 0.2 or profile.serving:
            write(f"{root}/docker-compose.yml", manifests.compose(rng, name, profile.serving))
        if rng.random() < 0.1 or profile.ai_iac:
            module = name.replace("-", "_")
            write(f"{root}/deploy/terraform/main.tf", manifests.terraform(rng, module, profile.ai_iac))
            write(f"{root}/deploy/terraform/variables.tf", 'variable "resource_group" {\n  type = string\n}\n')
        if rng.random() < 0.4 or profile.ai_ci:
            write(f"{root}/.github/workflows/ci.yml", manifests.workflow(rng, profile.ai_ci))

    def data_science(self, root: str, profile: Profile) -> None:
        """Write the project's notebooks, model artefacts and model card."""
        rng = self.rng
        for index in range(profile.notebooks):
            image = rng.choice((0, 0, 40_000, 150_000))
            text = manifests.notebook(rng, rng.random() < 0.7, image)
            self.writer.write_text(f"{root}/notebooks/{index:02d}-explore.ipynb", text)
            self.writer.planted["notebook"] += 1
        for index, (extension, size) in enumerate(profile.artefacts):
            data = artefacts.build(rng, extension, size)
            self.writer.write_artefact(f"{root}/models/model-{index}.{extension}", data)
        if profile.artefacts:
            card = manifests.model_card("distilbert/distilbert-base-uncased")
            self.writer.write_text(f"{root}/models/README.md", card)
            self.writer.planted["model_card"] += 1

    def readme(self, name: str, profile: Profile) -> str:
        text = f"# {name}\n\nThis service handles {self.rng.choice(sources.NOUNS)}s for the {self.rng.choice(sources.NOUNS)} team.\n\n"
        text += "## Running\n\n```sh\nmake run\n```\n\n"
        if not profile.uses_ai and self.rng.random() < 0.25:
            text += "## Notes\n\n" + self.rng.choice(ai_usage.README_AI_PROSE) + "\n"
            self.writer.planted["readme_prose"] += 1
        return text

    def doc_page(self) -> str:
        rng = self.rng
        paragraphs = [
            f"The {rng.choice(sources.NOUNS)} job runs every {rng.randint(2, 60)} minutes and "
            f"{rng.choice(sources.VERBS)}s {rng.choice(sources.ADJECTIVES)} {rng.choice(sources.NOUNS)}s."
            for _ in range(rng.randint(3, 30))
        ]
        return "# Operations\n\n" + "\n\n".join(paragraphs) + "\n"

    def app_config(self, profile: Profile) -> str:
        text = f"server:\n  port: 8080\nlog_level: info\nretries: {self.rng.randint(1, 9)}\n"
        if profile.ai_files and self.rng.random() < 0.5:
            text += "llm:\n  endpoint: https://api.openai.com/v1\n  model: gpt-4o-mini\n"
            self.writer.planted["config_model"] += 1
        return text

    def manifest(self, root: str, name: str, profile: Profile) -> None:
        rng = self.rng
        write = self.writer.write_text
        uses_ai = profile.uses_ai
        language = profile.language
        if language == "python":
            if rng.random() < 0.5:
                write(f"{root}/requirements.txt", manifests.requirements(rng, uses_ai))
            else:
                write(f"{root}/pyproject.toml", manifests.pyproject(rng, name, uses_ai))
        elif language in ("javascript", "typescript"):
            write(f"{root}/package.json", manifests.package_json(rng, name, uses_ai))
        elif language == "go":
            write(f"{root}/go.mod", manifests.go_mod(rng, name, uses_ai))
        elif language == "java":
            write(f"{root}/pom.xml", manifests.pom(rng, name, uses_ai))
        elif language == "kotlin":
            write(f"{root}/build.gradle.kts", manifests.gradle_kts(rng, uses_ai))
        elif language == "rust":
            write(f"{root}/Cargo.toml", manifests.cargo_toml(rng, name, uses_ai))
        else:
            write(f"{root}/{name}.csproj", manifests.csproj(rng, uses_ai))
        if uses_ai:
            self.writer.planted["ai_manifest"] += 1

    def sources(self, root: str, name: str, profile: Profile, count: int) -> None:
        rng = self.rng
        language = profile.language
        ai_indexes = set(rng.sample(range(count), min(profile.ai_files, count)))
        for index in range(count):
            module = f"{rng.choice(sources.NOUNS)}_{rng.choice(sources.VERBS)}"
            path = f"{root}/{self.source_path(language, name, module, index)}"
            snippet = rng.choice(ai_usage.SNIPPETS[language]) if index in ai_indexes else None
            self.writer.write_text(path, self.source_text(language, module, snippet))
            if snippet:
                self.writer.planted["ai_source"] += 1

    def source_path(self, language: str, project: str, module: str, index: int) -> str:
        folder = self.rng.choice(("core", "api", "store", "jobs", "util", "handlers", "models"))
        extension = sources.EXTENSIONS[language]
        package = project.replace("-", "_")
        if language == "python":
            prefix = "tests/test_" if index % 5 == 4 else f"{package}/{folder}/"
            return f"{prefix}{module}_{index}{extension}"
        if language in ("javascript", "typescript"):
            return f"src/{folder}/{module.replace('_', '-')}-{index}{extension}"
        if language == "go":
            return f"internal/{folder}/{module}_{index}{extension}"
        if language in ("java", "kotlin"):
            klass = "".join(part.capitalize() for part in module.split("_"))
            return f"src/main/{language}/com/example/{package}/{folder}/{klass}{index}{extension}"
        if language == "rust":
            return f"src/{folder}/{module}_{index}{extension}"
        klass = "".join(part.capitalize() for part in module.split("_"))
        return f"src/{folder.capitalize()}/{klass}{index}{extension}"

    def source_text(self, language: str, module: str, snippet) -> str:
        """Assemble a source file of a drawn size from the language's pre-rendered blocks."""
        target = self.writer.next_source_size()
        parts = [sources.header(language, module)]
        if language == "go" and snippet:
            parts[0] = parts[0].replace(")\n", snippet[0] + ")\n", 1)
        elif snippet:
            parts.append(snippet[0])
        parts.append(sources.class_open(language, module))
        size = sum(len(part) for part in parts)
        if snippet:
            parts.append(snippet[1])
        pool = self.pools[language]
        while size < target:
            block = pool[self.rng.randrange(len(pool))]
            parts.append(block)
            size += len(block)
        parts.append(sources.class_close(language))
        return "".join(parts)

    def generated(self, root: str) -> None:
        """Write a git-ignored ``generated/`` folder whose files import the OpenAI SDK."""
        for index in range(self.rng.randint(5, 25)):
            text = "# generated client, do not edit\nfrom openai import OpenAI\nclient = OpenAI()\n"
            self.writer.write_text(f"{root}/generated/client_{index}.py", text, ignored=True)

    def node_modules(self, root: str) -> None:
        """Write a ``node_modules/`` folder with a few packages, the openai SDK among them."""
        for package in ("openai", "lodash", "express", "zod", "@anthropic-ai/sdk", "axios"):
            base = f"{root}/node_modules/{package}"
            self.writer.write_text(f"{base}/package.json", f'{{"name": "{package}", "version": "1.0.0"}}\n', ignored=True)
            for index in range(self.rng.randint(3, 12)):
                text = f"// {package} internals\nmodule.exports.f{index} = function () {{ return {index}; }};\n" * 40
                self.writer.write_text(f"{base}/lib/part-{index}.js", text, ignored=True)
